#include "auth/audit.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "auth/audit_history.h"
#include "base/log_field.h"

namespace jotgate::auth {

namespace {

// Standard output, flushed when asked: the writer flushes once per batch, not once per line.
class StdoutSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stdout);
  }
  void flush_() override { std::fflush(stdout); }
};

struct Line {
  spdlog::log_clock::time_point time;
  std::string text;
  AuditEvent event;  // the same line, kept in the history once written
};

// The lines handed to the running AuditWriter.
struct Buffer {
  std::mutex mutex;
  std::condition_variable wake;  // a writer asleep (or waiting out kInterval) has work
  std::condition_variable room;  // the writer took the lines, or stopped
  std::vector<Line> lines;
  bool writer_running = false;
  bool writer_asleep = false;  // waiting for a first line, without a timer
  bool stopping = false;
};

Buffer& buffer() {
  static Buffer instance;
  return instance;
}

std::atomic<bool> json_lines{false};

void write(spdlog::logger& log, Line& line) {
  log.log(line.time, spdlog::source_loc{}, spdlog::level::info, line.text);
  audit_history().record(std::move(line.event));
}

AuditEvent event_of(spdlog::log_clock::time_point time, std::string_view event,
                    std::initializer_list<AuditField> fields) {
  AuditEvent out{time, std::string(event), {}};
  out.fields.reserve(fields.size());
  for (const AuditField& field : fields) out.fields.emplace_back(field.key, field.value);
  return out;
}

std::string text_line(std::string_view event, std::initializer_list<AuditField> fields) {
  std::string line = "event=";
  line.append(event);
  for (const AuditField& field : fields) {
    line.push_back(' ');
    line.append(field.key);
    line.push_back('=');
    append_log_field(line, field.value);
  }
  return line;
}

std::string json_line(spdlog::log_clock::time_point time, std::string_view event,
                      std::initializer_list<AuditField> fields, const RequestIds& ids) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const AuditField& field : fields) object[field.key] = field.value;
  std::string line = json_log_line(utc_timestamp(time), "info", event, std::move(object), ids);
  line.pop_back();  // the logger ends the line
  return line;
}

}  // namespace

spdlog::logger& audit_log() {
  // The lock makes "look up, else create" one step: two threads never both create it.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("audit")) return *existing;
  auto logger = std::make_shared<spdlog::logger>("audit", std::make_shared<StdoutSink>());
  spdlog::initialize_logger(logger);
  if (json_lines.load()) logger->set_pattern("%v");
  return *logger;
}

void set_audit_format(config::LogFormat format) {
  json_lines.store(format == config::LogFormat::kJson);
  // The JSON line carries its own time and level.
  if (json_lines.load()) audit_log().set_pattern("%v");
}

void audit(std::string_view event, std::initializer_list<AuditField> fields,
           const RequestIds& ids) {
  Line line{spdlog::log_clock::now(), {}, {}};
  line.event = event_of(line.time, event, fields);
  line.text = json_lines.load(std::memory_order_relaxed) ? json_line(line.time, event, fields, ids)
                                                         : text_line(event, fields);
  Buffer& b = buffer();
  {
    std::unique_lock lock(b.mutex);
    b.room.wait(lock, [&] { return !b.writer_running || b.lines.size() < AuditWriter::kCapacity; });
    if (b.writer_running) {
      b.lines.push_back(std::move(line));
      // Only a sleeping writer or a full batch is worth a wake-up; otherwise its timer comes.
      if (b.writer_asleep || b.lines.size() == AuditWriter::kBatch) {
        b.writer_asleep = false;
        b.wake.notify_one();
      }
      return;
    }
  }
  spdlog::logger& log = audit_log();
  write(log, line);
  log.flush();
}

AuditWriter::AuditWriter() {
  Buffer& b = buffer();
  {
    std::lock_guard lock(b.mutex);
    b.writer_running = true;
    b.stopping = false;
  }
  thread_ = std::thread([&b] {
    std::vector<Line> batch;
    std::unique_lock lock(b.mutex);
    for (;;) {
      if (b.lines.empty() && !b.stopping) {
        b.writer_asleep = true;
        b.wake.wait(lock, [&] { return !b.writer_asleep || b.stopping; });
        b.writer_asleep = false;
      }
      // Let lines gather: one write and one flush for all of them.
      b.wake.wait_for(lock, AuditWriter::kInterval,
                      [&] { return b.stopping || b.lines.size() >= AuditWriter::kBatch; });
      if (b.lines.empty()) {
        if (!b.stopping) continue;
        b.writer_running = false;  // every line is written: audit() writes itself from now on
        b.room.notify_all();
        return;
      }
      batch.swap(b.lines);
      lock.unlock();
      b.room.notify_all();
      spdlog::logger& log = audit_log();
      for (Line& line : batch) write(log, line);
      log.flush();
      batch.clear();
      lock.lock();
    }
  });
}

void AuditWriter::stop() {
  if (!thread_.joinable()) return;
  Buffer& b = buffer();
  {
    std::lock_guard lock(b.mutex);
    b.stopping = true;
  }
  b.wake.notify_one();
  thread_.join();
}

}  // namespace jotgate::auth
