# corrupt.cmake - fuzz_corrupt (issue 5: the checker's own robustness), included
# from fuzz/CMakeLists.txt after fuzzkit, fuzz_heap and hl-trace are defined.
#
#   HEAPLAB_FUZZ=ON and an engine   fuzz_corrupt: libFuzzer or AFL++'s driver
#   always                          fuzz_corrupt_replay (the standalone driver)
#   developer or fuzz builds        ctest: every corpus/fuzz_corrupt/ input a test
#                                   (label corpus), and the seeds = the encoding of
#                                   their traces (label corpus)
#
# fuzz_corrupt reads the heap's private layout (src/hl_internal.h) to know
# where the metadata lies, so it sees src/ as an include directory; it links
# only the public library.

set(FUZZ_CORRUPT_DIR ${PROJECT_SOURCE_DIR}/corpus/fuzz_corrupt)

function(heaplab_corrupt_target name)
  target_sources(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corrupt.c)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE fuzzkit)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
  endif()
endfunction()

if(NOT HEAPLAB_FUZZ_ENGINE STREQUAL "none")
  add_executable(fuzz_corrupt)
  heaplab_corrupt_target(fuzz_corrupt)
  heaplab_fuzz_engine_target(fuzz_corrupt)
  message(STATUS "heaplab fuzz: fuzz_corrupt for ${HEAPLAB_FUZZ_ENGINE}")
endif()

add_executable(fuzz_corrupt_replay ${CMAKE_CURRENT_SOURCE_DIR}/driver_standalone.c)
heaplab_corrupt_target(fuzz_corrupt_replay)

if(HEAPLAB_DEVELOPER OR HEAPLAB_FUZZ)
  enable_testing()
  # Read at configure time: re-run cmake after adding seeds.  traces/ holds the
  # text the seeds are made from (ci/fuzz_corrupt.sh seeds).
  file(GLOB _corrupt_inputs LIST_DIRECTORIES false CONFIGURE_DEPENDS "${FUZZ_CORRUPT_DIR}/*")
  foreach(input IN LISTS _corrupt_inputs)
    get_filename_component(_name ${input} NAME)
    if(_name MATCHES "\\.(txt|md|sh)$" OR _name MATCHES "^\\.")
      continue()
    endif()
    add_test(NAME corpus/fuzz_corrupt/${_name} COMMAND fuzz_corrupt_replay ${input})
    set_tests_properties(corpus/fuzz_corrupt/${_name} PROPERTIES LABELS "corpus")
  endforeach()
  if(EXISTS ${FUZZ_CORRUPT_DIR}/traces)
    find_program(HEAPLAB_BASH bash)
    if(HEAPLAB_BASH)
      add_test(NAME corpus/fuzz_corrupt.encoding
               COMMAND ${HEAPLAB_BASH} ${PROJECT_SOURCE_DIR}/ci/fuzz_corrupt.sh seeds --check $<TARGET_FILE:hl-trace>)
      set_tests_properties(corpus/fuzz_corrupt.encoding PROPERTIES LABELS "corpus")
    endif()
  endif()
endif()
