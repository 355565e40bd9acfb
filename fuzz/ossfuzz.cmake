# ossfuzz.cmake - OSS-Fuzz and ClusterFuzzLite (docs/oss-fuzz.md), included at
# the end of fuzz/CMakeLists.txt, once every fuzz target exists.
#
#   an engine build            <build>/ossfuzz-targets.txt: one line per engine
#                              target, "<name> <binary>", what .clusterfuzzlite/build.sh
#                              builds and copies to $OUT
#   HEAPLAB_FUZZ_EXTERNAL=ON   configure fails on a target that chose an engine itself
#                              (-fsanitize=fuzzer) instead of heaplab_fuzz_engine_target()
#   HEAPLAB_OSSFUZZ_TEST=ON    ctest ossfuzz/libfuzzer, ossfuzz/ubsan and ossfuzz/afl (label
#                              ossfuzz): ci/ossfuzz_check.sh runs build.sh as OSS-Fuzz would
#                              (libFuzzer with ASan, with UBSan; AFL++ with ASan) and each
#                              target it built on its seed corpus (under a minute each)

option(HEAPLAB_OSSFUZZ_TEST "ctest: .clusterfuzzlite/build.sh for libFuzzer (ASan, UBSan) and AFL++, every target run briefly" OFF)

# Every target of a directory and of the directories below it.
function(_heaplab_ossfuzz_all_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _heaplab_ossfuzz_all_targets(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

if(HEAPLAB_FUZZ_ENGINE_KIND STREQUAL "external")
  # -fsanitize=fuzzer beside $LIB_FUZZING_ENGINE links a second engine (two
  # main()s with AFL++'s driver): refuse it here rather than in the linker.
  _heaplab_ossfuzz_all_targets(${CMAKE_CURRENT_SOURCE_DIR} _all)
  foreach(t IN LISTS _all)
    get_target_property(_copts ${t} COMPILE_OPTIONS)
    get_target_property(_lopts ${t} LINK_OPTIONS)
    if("${_copts};${_lopts}" MATCHES "-fsanitize=fuzzer(;|$)")
      message(FATAL_ERROR "heaplab fuzz: ${t} adds -fsanitize=fuzzer itself; with HEAPLAB_FUZZ_EXTERNAL "
                          "the engine comes from HEAPLAB_FUZZ_LINK_FLAGS: make it with heaplab_fuzz_engine_target(${t})")
    endif()
  endforeach()
endif()

get_property(_ossfuzz_targets GLOBAL PROPERTY HEAPLAB_FUZZ_TARGETS)
if(_ossfuzz_targets)
  set(_lines "")
  foreach(t IN LISTS _ossfuzz_targets)
    string(APPEND _lines "${t} $<TARGET_FILE:${t}>\n")
  endforeach()
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/ossfuzz-targets.txt CONTENT "${_lines}")
endif()

if(HEAPLAB_OSSFUZZ_TEST)
  find_program(HEAPLAB_BASH bash)
  if(NOT HEAPLAB_BASH)
    message(FATAL_ERROR "HEAPLAB_OSSFUZZ_TEST needs bash")
  endif()
  enable_testing()
  foreach(engine IN ITEMS libfuzzer ubsan afl)
    add_test(NAME ossfuzz/${engine}
             COMMAND ${HEAPLAB_BASH} ${PROJECT_SOURCE_DIR}/ci/ossfuzz_check.sh
                     --engine ${engine} --dir ${CMAKE_CURRENT_BINARY_DIR}/ossfuzz-${engine})
    set_tests_properties(ossfuzz/${engine} PROPERTIES LABELS "ossfuzz" TIMEOUT 900 PROCESSORS 2)
  endforeach()
endif()
