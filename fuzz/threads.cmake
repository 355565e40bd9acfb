# fuzz/threads.cmake - fuzz_threads (issue 4): heaplab's global API under 2-8
# threads, deterministic (a turnstile) or free-running.  Included by
# fuzz/CMakeLists.txt, so fuzzkit, HEAPLAB_FUZZ_ENGINE and driver_standalone.c
# are already there.
#
#   always           fuzz_threads_replay (standalone driver), fzt-trace (threaded
#                    traces <-> bytes), ctest: every corpus/fuzz_threads and
#                    corpus/regressions/fuzz_threads input replays (labels corpus,
#                    threads) and matches its trace; the determinism test (threads)
#   engine build     fuzz_threads (libFuzzer or AFL++)

set(FZT_CORPUS_DIR ${PROJECT_SOURCE_DIR}/corpus/fuzz_threads)
set(FZT_REGRESSION_DIR ${PROJECT_SOURCE_DIR}/corpus/regressions/fuzz_threads)
find_package(Threads REQUIRED)

add_library(fuzzkit_threads STATIC threads_input.c threads_oracle.c threads_freerun.c threads_run.c turnstile.c
            adapter_heaplab_global.c)
target_link_libraries(fuzzkit_threads PUBLIC fuzzkit Threads::Threads)
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(fuzzkit_threads PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
endif()

if(NOT HEAPLAB_FUZZ_ENGINE STREQUAL "none")
  add_executable(fuzz_threads fuzz_threads.c)
  target_link_libraries(fuzz_threads PRIVATE fuzzkit_threads)
  heaplab_fuzz_engine_target(fuzz_threads)
  message(STATUS "heaplab fuzz: fuzz_threads for ${HEAPLAB_FUZZ_ENGINE}")
endif()

add_executable(fuzz_threads_replay driver_standalone.c fuzz_threads.c)
target_link_libraries(fuzz_threads_replay PRIVATE fuzzkit_threads)

# Threaded text traces <-> input bytes (the op syntax is hl-trace's, so its encoder is reused).
add_executable(fzt-trace threads_trace.c tools/encode.c)
target_include_directories(fzt-trace PRIVATE tools)
target_link_libraries(fzt-trace PRIVATE fuzzkit_threads)

add_custom_target(fuzz-threads-corpus
  COMMAND fzt-trace encode-dir ${FZT_CORPUS_DIR}/traces ${FZT_CORPUS_DIR}
  COMMENT "Encoding corpus/fuzz_threads/traces/*.txt into corpus/fuzz_threads/"
  VERBATIM)

if(HEAPLAB_DEVELOPER OR HEAPLAB_FUZZ)
  enable_testing()
  heaplab_corpus_tests(${FZT_CORPUS_DIR} fuzz_threads_replay fzt-trace "corpus;threads")
  heaplab_corpus_tests(${FZT_REGRESSION_DIR} fuzz_threads_replay fzt-trace "corpus;threads")

  # A threaded crash reproduces: the same input, 20 separate runs, the same
  # failing operation and message every time (addresses aside).
  set(_crash ${FZT_CORPUS_DIR}/cross_double_free)
  if(EXISTS ${_crash})
    add_test(NAME fuzz/threads-crash-deterministic
      COMMAND ${CMAKE_COMMAND} -DREPLAY=$<TARGET_FILE:fuzz_threads_replay> -DINPUT=${_crash} -DRUNS=20
              "-DEXPECT=op #10 t2 double_free s1 via=free: error double-free from free"
              -P ${CMAKE_CURRENT_SOURCE_DIR}/threads_repeat.cmake)
    set_tests_properties(fuzz/threads-crash-deterministic PROPERTIES LABELS "threads" TIMEOUT 300)
  endif()
endif()
