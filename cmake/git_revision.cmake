# Writes OUTPUT (a header defining JOTGATE_GIT_REVISION) with the short revision of the git
# checkout SOURCE_DIR, or "unknown" outside one. Run at every build (cmake -P, from the
# jotgate_git_revision target); configure_file leaves OUTPUT untouched when the revision did not
# change, so nothing is recompiled then.
find_program(GIT_PROGRAM git)
set(JOTGATE_GIT_REVISION unknown)
if(GIT_PROGRAM)
  execute_process(COMMAND ${GIT_PROGRAM} -C ${SOURCE_DIR} rev-parse --short=7 HEAD
    OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE failed ERROR_QUIET)
  if(NOT failed AND revision)
    set(JOTGATE_GIT_REVISION ${revision})
  endif()
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
