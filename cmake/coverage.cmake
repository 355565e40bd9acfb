# coverage.cmake - coverage-report and coverage-reset for a --coverage build.
#
# The coverage preset compiles everything with gcc --coverage; running the
# tests leaves a .gcda file beside every object.  coverage-report turns the
# counters of src/ and invariants/ into an HTML report in <build>/html and
# prints gcovr's summary (lines, branches); coverage-reset deletes the
# counters, so a report shows one test run rather than the sum of all.
#
# HEAPLAB_COVERAGE_MIN_LINES / _BRANCHES are floors (percent): below them the
# report target fails, so CI fails.

set(HEAPLAB_COVERAGE_MIN_LINES 0 CACHE STRING "coverage-report fails below this line coverage (%)")
set(HEAPLAB_COVERAGE_MIN_BRANCHES 0 CACHE STRING "coverage-report fails below this branch coverage (%)")

find_program(GCOVR_EXECUTABLE gcovr)
if(NOT GCOVR_EXECUTABLE)
  message(FATAL_ERROR "The coverage preset needs gcovr: apt-get install gcovr")
endif()
if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU")
  message(WARNING "coverage-report reads gcc's .gcda files; the compiler is ${CMAKE_C_COMPILER_ID}")
endif()

# gcov must be the one of the gcc that compiled (gcc-12 here: gcov-12).
string(REGEX MATCH "^[0-9]+" gcc_major "${CMAKE_C_COMPILER_VERSION}")
find_program(GCOV_EXECUTABLE NAMES gcov-${gcc_major} gcov)

set(coverage_html ${PROJECT_BINARY_DIR}/html)
add_custom_target(coverage-report
  COMMAND ${CMAKE_COMMAND} -E make_directory ${coverage_html}
  COMMAND ${GCOVR_EXECUTABLE}
          --root ${PROJECT_SOURCE_DIR}
          --object-directory ${PROJECT_BINARY_DIR}
          --gcov-executable ${GCOV_EXECUTABLE}
          --filter src/ --filter invariants/
          --exclude-directories ".*/CMakeFiles/[0-9.]+/CompilerId.*"
          --exclude-unreachable-branches
          --html-details ${coverage_html}/index.html
          --html-title "heaplab coverage"
          --print-summary
          --fail-under-line ${HEAPLAB_COVERAGE_MIN_LINES}
          --fail-under-branch ${HEAPLAB_COVERAGE_MIN_BRANCHES}
  COMMAND ${CMAKE_COMMAND} -E echo "coverage report: ${coverage_html}/index.html"
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "gcovr: coverage of src/ and invariants/"
  VERBATIM)

add_custom_target(coverage-reset
  COMMAND ${CMAKE_COMMAND} -D DIR=${PROJECT_BINARY_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/coverage_reset.cmake
  COMMENT "Deleting coverage counters (.gcda)"
  VERBATIM)
