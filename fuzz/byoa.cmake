# byoa.cmake - bring your own allocator (issue 7): heaplab_add_allocator(), and
# the example allocators.  Included at the end of fuzz/CMakeLists.txt, after
# fuzzkit and hl-trace exist.  docs/byoa.md is the guide.
#
#   heaplab_add_allocator(NAME <name> SOURCES <file>...
#       [ADAPTER <symbol>]          the adapter table (default fz_adapter_<name>)
#       [MODE FORK|INPROCESS]       a child per input (default), or in process (create() resets)
#       [TIMEOUT <seconds>]         per input in fork mode (default 10)
#       [SBRK]                      the allocator moves the program break: glibc's
#                                   malloc is kept off it (mmap only) in the harness
#       [RENAME <symbol>...]        the allocator defines these itself (malloc, free, ...):
#                                   objcopy renames each to <name>_<symbol> in every object
#                                   of SOURCES, definitions and calls alike
#       [HAS_MAIN]                  a source has its own main(): compiled as <name>_main
#       [THREADS]                   the allocator is thread-safe (its adapter claims
#                                   FZ_CLAIM_THREAD_SAFE): the threaded targets too
#       [DEFINITIONS <def>...] [INCLUDE_DIRECTORIES <dir>...]
#       [COMPILE_OPTIONS <opt>...] [LINK_LIBRARIES <lib>...])
#
# gives
#   fuzz_heap_<name>          libFuzzer or AFL++ target (when HEAPLAB_FUZZ has an engine)
#   fuzz_heap_<name>_replay   the standalone driver (always): FILE|DIR ...
#   hl-trace-<name>           hl-trace with the allocator's adapter (decode, replay, svg)
# and with THREADS
#   fuzz_threads_<name>       the threaded target (fuzz_threads' inputs and oracle)
#   fuzz_threads_<name>_replay
# all in the fuzz/ build directory, where ci/campaign.sh looks for targets.  A
# threaded target refuses (exit status 2) an adapter whose create() does not
# claim FZ_CLAIM_THREAD_SAFE.
#
# The user's SOURCES (allocator and adapter) become one static library compiled
# with the build's flags (sanitizers included) and, with libFuzzer, coverage;
# the harness (fuzzkit, the runner) is heaplab's.  Every executable links with
# -Wl,--wrap=exit (byoa/exit_trap.h).
#
# Extra allocators outside this tree: -DHEAPLAB_ALLOCATORS="dir1;dir2", each
# directory holding a CMakeLists.txt with its heaplab_add_allocator() line.

set(HEAPLAB_BYOA_DIR ${CMAKE_CURRENT_SOURCE_DIR}/byoa CACHE INTERNAL "")
set(HEAPLAB_BYOA_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR} CACHE INTERNAL "")
set(HEAPLAB_BYOA_BINARY_DIR ${CMAKE_CURRENT_BINARY_DIR} CACHE INTERNAL "")
set(HEAPLAB_BYOA_ENGINE ${HEAPLAB_FUZZ_ENGINE} CACHE INTERNAL "")
set(HEAPLAB_ALLOCATORS "" CACHE STRING "Directories with a heaplab_add_allocator() CMakeLists.txt each")

# The runner, compiled once (no fuzzer instrumentation: its coverage says
# nothing about the allocator).
add_library(byoa_runner OBJECT byoa/runner.c byoa/capture.c byoa/coverage.c byoa/exit_trap.c)
target_include_directories(byoa_runner PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} byoa)
target_compile_definitions(byoa_runner PRIVATE FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(byoa_runner PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
endif()

# hl-trace's sources for a per-allocator copy: svg.c when it exists; not
# repro_c.c, which writes programs against heaplab's own API.
set(HEAPLAB_BYOA_TRACE_SOURCES tools/hl_trace.c tools/replay.c tools/heapmap.c tools/encode.c)
set(HEAPLAB_BYOA_TRACE_DEFINES "")
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tools/svg.c)
  list(APPEND HEAPLAB_BYOA_TRACE_SOURCES tools/svg.c)
  list(APPEND HEAPLAB_BYOA_TRACE_DEFINES HL_TRACE_HAVE_SVG)
endif()
list(TRANSFORM HEAPLAB_BYOA_TRACE_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
set(HEAPLAB_BYOA_TRACE_SOURCES ${HEAPLAB_BYOA_TRACE_SOURCES} CACHE INTERNAL "")
set(HEAPLAB_BYOA_TRACE_DEFINES "${HEAPLAB_BYOA_TRACE_DEFINES}" CACHE INTERNAL "")

# The user's sources as a static library, symbols renamed as asked.
function(_heaplab_byoa_library name)
  set(lib byoa_${name}_alloc)
  add_library(${lib} STATIC ${A_SOURCES})
  target_include_directories(${lib} PRIVATE ${HEAPLAB_BYOA_DIR} ${HEAPLAB_BYOA_FUZZ_DIR}
                             ${CMAKE_CURRENT_SOURCE_DIR} ${A_INCLUDE_DIRECTORIES})
  target_compile_definitions(${lib} PRIVATE ${A_DEFINITIONS})
  target_compile_options(${lib} PRIVATE ${A_COMPILE_OPTIONS})
  target_link_libraries(${lib} PUBLIC ${A_LINK_LIBRARIES})
  if(A_HAS_MAIN)
    target_compile_definitions(${lib} PRIVATE main=${name}_main)
  endif()
  if(HEAPLAB_BYOA_ENGINE STREQUAL "libfuzzer" AND NOT CMAKE_C_FLAGS MATCHES "fuzzer-no-link")
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)   # the allocator's coverage
  endif()
  if(A_RENAME)
    if(NOT CMAKE_OBJCOPY)
      message(FATAL_ERROR "heaplab_add_allocator(${name}): RENAME needs objcopy (binutils)")
    endif()
    # The compiler must not treat the allocator's own malloc/free as the builtins.
    target_compile_options(${lib} PRIVATE -fno-builtin)
    set(renames "")
    foreach(sym IN LISTS A_RENAME)
      list(APPEND renames --redefine-sym ${sym}=${name}_${sym})
    endforeach()
    add_custom_command(TARGET ${lib} POST_BUILD
      COMMAND ${CMAKE_OBJCOPY} ${renames} $<TARGET_FILE:${lib}>
      COMMENT "Renaming ${A_RENAME} in ${lib} (heaplab_add_allocator RENAME)"
      VERBATIM)
  endif()
endfunction()

function(_heaplab_byoa_executable exe name lib)
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${HEAPLAB_BYOA_BINARY_DIR})
  target_include_directories(${exe} PRIVATE ${HEAPLAB_BYOA_DIR} ${HEAPLAB_BYOA_FUZZ_DIR})
  target_link_libraries(${exe} PRIVATE ${lib} fuzzkit)
  target_link_options(${exe} PRIVATE -Wl,--wrap=exit)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${exe} PRIVATE -Wall -Wextra)
  endif()
endfunction()

# fuzz_threads_<name> and its replay driver: fuzz/byoa/fuzz_threads_byoa.c.
function(_heaplab_byoa_threads name lib defs)
  if(NOT TARGET fuzzkit_threads)
    message(FATAL_ERROR "heaplab_add_allocator(${name}): THREADS needs fuzz/threads.cmake (fuzzkit_threads)")
  endif()
  list(TRANSFORM defs REPLACE "^BYOA_NAME=.*" "BYOA_NAME=\"fuzz_threads_${name}\"")
  set(exes fuzz_threads_${name}_replay)
  add_executable(fuzz_threads_${name}_replay ${HEAPLAB_BYOA_FUZZ_DIR}/driver_standalone.c
                 ${HEAPLAB_BYOA_DIR}/fuzz_threads_byoa.c $<TARGET_OBJECTS:byoa_runner>)
  if(NOT HEAPLAB_BYOA_ENGINE STREQUAL "none")
    add_executable(fuzz_threads_${name} ${HEAPLAB_BYOA_DIR}/fuzz_threads_byoa.c $<TARGET_OBJECTS:byoa_runner>)
    heaplab_fuzz_engine_target(fuzz_threads_${name})
    list(APPEND exes fuzz_threads_${name})
  endif()
  foreach(exe IN LISTS exes)
    _heaplab_byoa_executable(${exe} ${name} ${lib})
    target_link_libraries(${exe} PRIVATE fuzzkit_threads)
    target_compile_definitions(${exe} PRIVATE ${defs})
  endforeach()
endfunction()

function(heaplab_add_allocator)
  cmake_parse_arguments(A "HAS_MAIN;SBRK;THREADS" "NAME;ADAPTER;MODE;TIMEOUT"
                        "SOURCES;RENAME;DEFINITIONS;INCLUDE_DIRECTORIES;COMPILE_OPTIONS;LINK_LIBRARIES" ${ARGN})
  if(NOT A_NAME OR NOT A_SOURCES)
    message(FATAL_ERROR "heaplab_add_allocator: NAME and SOURCES are required")
  endif()
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "heaplab_add_allocator(${A_NAME}): unknown arguments ${A_UNPARSED_ARGUMENTS}")
  endif()
  set(name ${A_NAME})
  if(NOT A_ADAPTER)
    set(A_ADAPTER fz_adapter_${name})
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 10)
  endif()
  if(NOT A_MODE OR A_MODE STREQUAL "FORK")
    set(mode BYOA_FORK)
  elseif(A_MODE STREQUAL "INPROCESS")
    set(mode BYOA_IN_PROCESS)
  else()
    message(FATAL_ERROR "heaplab_add_allocator(${name}): MODE is FORK or INPROCESS, not ${A_MODE}")
  endif()
  set(sbrk 0)
  if(A_SBRK)
    set(sbrk 1)
  endif()

  _heaplab_byoa_library(${name})
  set(lib byoa_${name}_alloc)
  set(defs BYOA_NAME="fuzz_heap_${name}" BYOA_ADAPTER=${A_ADAPTER} BYOA_MODE=${mode}
           BYOA_TIMEOUT=${A_TIMEOUT} BYOA_SBRK=${sbrk})

  if(NOT HEAPLAB_BYOA_ENGINE STREQUAL "none")
    add_executable(fuzz_heap_${name} ${HEAPLAB_BYOA_DIR}/fuzz_byoa.c $<TARGET_OBJECTS:byoa_runner>)
    _heaplab_byoa_executable(fuzz_heap_${name} ${name} ${lib})
    target_compile_definitions(fuzz_heap_${name} PRIVATE ${defs})
    heaplab_fuzz_engine_target(fuzz_heap_${name})
  endif()

  add_executable(fuzz_heap_${name}_replay ${HEAPLAB_BYOA_FUZZ_DIR}/driver_standalone.c
                 ${HEAPLAB_BYOA_DIR}/fuzz_byoa.c $<TARGET_OBJECTS:byoa_runner>)
  _heaplab_byoa_executable(fuzz_heap_${name}_replay ${name} ${lib})
  target_compile_definitions(fuzz_heap_${name}_replay PRIVATE ${defs})

  # hl-trace with this adapter in place of heaplab's: the tool names its adapter
  # fz_adapter_heaplab, so that name is defined to the user's table here.
  add_executable(hl-trace-${name} ${HEAPLAB_BYOA_TRACE_SOURCES} ${HEAPLAB_BYOA_DIR}/trace_glue.c
                 ${HEAPLAB_BYOA_DIR}/exit_trap.c)
  _heaplab_byoa_executable(hl-trace-${name} ${name} ${lib})
  target_include_directories(hl-trace-${name} PRIVATE ${HEAPLAB_BYOA_FUZZ_DIR}/tools)
  target_compile_definitions(hl-trace-${name} PRIVATE fz_adapter_heaplab=${A_ADAPTER} ${HEAPLAB_BYOA_TRACE_DEFINES})

  # `cmake --build --target fuzz_heap_<name>` (what ci/campaign.sh runs) brings its hl-trace.
  if(TARGET fuzz_heap_${name})
    add_dependencies(fuzz_heap_${name} hl-trace-${name})
  endif()
  set(threads "")
  if(A_THREADS)
    _heaplab_byoa_threads(${name} ${lib} "${defs}")
    set(threads ", threads")
  endif()
  # Its fixed crashes (ci/corpus_merge.sh --regression keeps them in
  # corpus/regressions/<target>/) replay on every build, as heaplab's do.
  # Label byoa only: the fuzz smoke scripts run -L corpus and -L threads with
  # heaplab's own targets built, not these.
  if(HEAPLAB_DEVELOPER OR HEAPLAB_FUZZ)
    heaplab_corpus_tests(${HEAPLAB_CORPUS_DIR}/regressions/fuzz_heap_${name}
                         fuzz_heap_${name}_replay hl-trace-${name} "byoa")
    if(A_THREADS)
      heaplab_corpus_tests(${HEAPLAB_CORPUS_DIR}/regressions/fuzz_threads_${name}
                           fuzz_threads_${name}_replay fzt-trace "byoa")
    endif()
  endif()
  message(STATUS "heaplab byoa: ${name} (${A_ADAPTER}, ${mode}${threads})")
endfunction()

# --- the examples, and the user's own directories --------------------------------------------------
if(EXISTS ${PROJECT_SOURCE_DIR}/examples/allocators/CMakeLists.txt)
  add_subdirectory(${PROJECT_SOURCE_DIR}/examples/allocators ${CMAKE_BINARY_DIR}/examples/allocators)
endif()
set(_byoa_i 0)
foreach(dir IN LISTS HEAPLAB_ALLOCATORS)
  math(EXPR _byoa_i "${_byoa_i} + 1")
  get_filename_component(_byoa_name ${dir} NAME)
  add_subdirectory(${dir} ${CMAKE_BINARY_DIR}/allocators/${_byoa_i}-${_byoa_name})
endforeach()
