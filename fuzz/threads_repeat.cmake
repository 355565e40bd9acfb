# threads_repeat.cmake - runs a crashing threaded input RUNS times, each in a
# process of its own with FZT_ABORT_ON_ERROR=1, and checks every run fails
# with the same "fuzz_threads: op #N ..." line (addresses masked), which must
# contain EXPECT.
#   cmake -DREPLAY=fuzz_threads_replay -DINPUT=file -DRUNS=20 -DEXPECT=text -P threads_repeat.cmake
set(ENV{FZT_ABORT_ON_ERROR} 1)
set(_first "")
foreach(i RANGE 1 ${RUNS})
  execute_process(COMMAND ${REPLAY} ${INPUT} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "run ${i}: ${INPUT} did not crash:\n${err}")
  endif()
  string(REGEX MATCH "fuzz_threads: op #[^\n]*" line "${err}")
  if(NOT line)
    message(FATAL_ERROR "run ${i}: no 'fuzz_threads: op #' line (exit ${rc}):\n${err}")
  endif()
  string(REGEX REPLACE "0x[0-9a-fA-F]+" "0x?" line "${line}")
  if(i EQUAL 1)
    set(_first "${line}")
    string(FIND "${line}" "${EXPECT}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "run 1 failed elsewhere than expected:\n  got:      ${line}\n  expected: ${EXPECT}")
    endif()
  elseif(NOT line STREQUAL _first)
    message(FATAL_ERROR "run ${i} differs from run 1:\n  run 1:  ${_first}\n  run ${i}: ${line}")
  endif()
endforeach()
message(STATUS "${RUNS} runs, each: ${_first}")
