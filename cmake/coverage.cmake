# coverage.cmake - coverage-report and coverage-reset for a --coverage build.
#
# The coverage preset compiles everything with gcc --coverage; running the
# tests leaves a .gcda file beside every object.  coverage-report turns the
# counters of src/ and invariants/ into an HTML report in <build>/html and
# prints gcovr's summary (lines, functions, branches); coverage-reset deletes
# the counters, so a report shows one test run rather than the sum of all.
# docs/coverage.md says how to run it and what the figures mean.
#
# What is measured: the library as the tests link it (target heaplab: Debug,
# -O0, HL_CHECKED), which every unit test, the example and every corpus and
# fuzz_corrupt replay runs; and src/preload/preload.c from the two LD_PRELOAD
# libraries, which the preload tests run.  The preload libraries compile the
# rest of src/ and invariants/ a second and a third time, at -O2 and one of
# them without HL_CHECKED: those copies are left out, because gcovr merges a
# line's branches across compilations by their index, and branch 3 of a line
# at -O2 is not branch 3 of that line at -O0, so the merged branch figure
# would count branches of three different programs as one.  (Of lines, those
# copies add only declarations -O2 debug info marks as code, and fork's child
# handler, which the preload tests' real programs reach.)
#
# Excluded from the figures (GCOVR_EXCL markers, each with its reason in the
# source): only branches no input can take, e.g. a bound on a walk that an
# earlier test in the same walk already makes unreachable.  The list is in
# docs/coverage.md.  --exclude-unreachable-branches drops the branches gcc
# emits on lines with no code of their own (a closing brace).
#
# HEAPLAB_COVERAGE_MIN_LINES / _BRANCHES are floors (percent): below them the
# report target fails, so the coverage workflow (whose last step builds
# coverage-report) and CI fail.  The coverage preset sets them.

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
set(coverage_lib_json ${PROJECT_BINARY_DIR}/coverage-lib.json)
set(coverage_preload_json ${PROJECT_BINARY_DIR}/coverage-preload.json)
set(gcovr_common
    ${GCOVR_EXECUTABLE}
    --root ${PROJECT_SOURCE_DIR}
    --gcov-executable ${GCOV_EXECUTABLE}
    --exclude-unreachable-branches)

# One tracefile per compilation that is measured, then one report of both.
set(coverage_tracefiles -a ${coverage_lib_json})
set(coverage_preload_step "")
if(TARGET heaplab_preload)
  set(coverage_preload_step
    COMMAND ${gcovr_common} --filter ${PROJECT_SOURCE_DIR}/src/preload/
            --json ${coverage_preload_json}
            ${PROJECT_BINARY_DIR}/CMakeFiles/heaplab_preload.dir
            ${PROJECT_BINARY_DIR}/CMakeFiles/heaplab_preload_checked.dir)
  list(APPEND coverage_tracefiles -a ${coverage_preload_json})
endif()

add_custom_target(coverage-report
  COMMAND ${CMAKE_COMMAND} -E make_directory ${coverage_html}
  COMMAND ${gcovr_common}
          --filter ${PROJECT_SOURCE_DIR}/src/ --filter ${PROJECT_SOURCE_DIR}/invariants/
          --exclude ${PROJECT_SOURCE_DIR}/src/preload/
          --json ${coverage_lib_json}
          ${PROJECT_BINARY_DIR}/CMakeFiles/heaplab.dir
  ${coverage_preload_step}
  COMMAND ${gcovr_common} ${coverage_tracefiles}
          --html-details ${coverage_html}/index.html
          --html-title "heaplab coverage"
          --print-summary
          --fail-under-line ${HEAPLAB_COVERAGE_MIN_LINES}
          --fail-under-branch ${HEAPLAB_COVERAGE_MIN_BRANCHES}
  COMMAND ${CMAKE_COMMAND} -E echo "coverage report: ${coverage_html}/index.html"
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "gcovr: coverage of src/ and invariants/ (floors: ${HEAPLAB_COVERAGE_MIN_LINES}% lines, ${HEAPLAB_COVERAGE_MIN_BRANCHES}% branches)"
  VERBATIM)

add_custom_target(coverage-report-text
  COMMAND ${gcovr_common} ${coverage_tracefiles} --txt
  COMMAND ${gcovr_common} ${coverage_tracefiles} --txt --branches
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "gcovr: uncovered lines and branches per file (after coverage-report)"
  VERBATIM)

add_custom_target(coverage-reset
  COMMAND ${CMAKE_COMMAND} -D DIR=${PROJECT_BINARY_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/coverage_reset.cmake
  COMMENT "Deleting coverage counters (.gcda)"
  VERBATIM)
