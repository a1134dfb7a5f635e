#include "auth/audit.h"

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

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
};

// The lines handed to the running AuditWriter.
struct Queue {
  std::mutex mutex;
  std::condition_variable queued;  // lines arrived, or stop was asked
  std::condition_variable room;    // the writer took a batch, or stopped
  std::vector<Line> lines;
  bool writer_running = false;
  bool stopping = false;
};

Queue& queue() {
  static Queue instance;
  return instance;
}

void write(spdlog::logger& log, const Line& line) {
  log.log(line.time, spdlog::source_loc{}, spdlog::level::info, line.text);
}

}  // namespace

spdlog::logger& audit_log() {
  // The lock makes "look up, else create" one step: two threads never both create it.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("audit")) return *existing;
  auto logger = std::make_shared<spdlog::logger>("audit", std::make_shared<StdoutSink>());
  spdlog::initialize_logger(logger);
  return *logger;
}

void audit(std::string_view event, std::initializer_list<AuditField> fields) {
  Line line{spdlog::log_clock::now(), "event="};
  line.text.append(event);
  for (const AuditField& field : fields) {
    line.text.push_back(' ');
    line.text.append(field.key);
    line.text.push_back('=');
    append_log_field(line.text, field.value);
  }
  Queue& q = queue();
  {
    std::unique_lock lock(q.mutex);
    q.room.wait(lock, [&] { return !q.writer_running || q.lines.size() < AuditWriter::kCapacity; });
    if (q.writer_running) {
      q.lines.push_back(std::move(line));
      if (q.lines.size() == 1) q.queued.notify_one();
      return;
    }
  }
  spdlog::logger& log = audit_log();
  write(log, line);
  log.flush();
}

AuditWriter::AuditWriter() {
  Queue& q = queue();
  {
    std::lock_guard lock(q.mutex);
    q.writer_running = true;
    q.stopping = false;
  }
  thread_ = std::thread([&q] {
    std::vector<Line> batch;
    for (;;) {
      {
        std::unique_lock lock(q.mutex);
        q.queued.wait(lock, [&] { return !q.lines.empty() || q.stopping; });
        if (q.lines.empty()) {  // stopping, and every line is written
          q.writer_running = false;
          q.room.notify_all();
          return;
        }
        batch.swap(q.lines);
      }
      q.room.notify_all();
      spdlog::logger& log = audit_log();
      for (const Line& line : batch) write(log, line);
      log.flush();
      batch.clear();
    }
  });
}

void AuditWriter::stop() {
  if (!thread_.joinable()) return;
  Queue& q = queue();
  {
    std::lock_guard lock(q.mutex);
    q.stopping = true;
  }
  q.queued.notify_one();
  thread_.join();
}

}  // namespace jotgate::auth
