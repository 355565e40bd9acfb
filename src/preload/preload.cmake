# src/preload/preload.cmake - libheaplab.so and libheaplab-checked.so, heaplab
# as the malloc of unmodified programs:
#
#   LD_PRELOAD=<build>/preload/libheaplab.so python3 ...
#
# Included from the top-level CMakeLists.txt after the `heaplab` target:
#   include(src/preload/preload.cmake)
#
# Each flavour compiles the library's sources (HEAPLAB_SOURCES) again, as
# position-independent code with every symbol hidden except the C library's
# allocation functions that src/preload/preload.c defines, and with every
# thread-local variable initial-exec, so that no allocation ever goes through
# __tls_get_addr (which may itself call malloc).
#   heaplab_preload          libheaplab.so          optimised, no checks
#   heaplab_preload_checked  libheaplab-checked.so  HL_CHECKED=1: canaries, free
#                                                   fill, and a full check of the
#                                                   touched heap after every call
# Both are -O2 whatever the build type, so that the checked flavour can run
# real programs in a Debug tree.
#
# Not built with sanitizers: ASan, MSan and TSan replace malloc themselves and
# want their runtime first in the process, so a preloaded malloc built with
# them cannot work.  HEAPLAB_PRELOAD_BUILT tells tests/preload whether the
# targets exist.

set(HEAPLAB_PRELOAD_BUILT OFF)
if(CMAKE_C_FLAGS MATCHES "-fsanitize=")
  message(STATUS "heaplab: libheaplab.so not built in a sanitizer build")
  return()
endif()
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  message(STATUS "heaplab: libheaplab.so is built on Linux only")
  return()
endif()

set(HEAPLAB_PRELOAD_DIR ${PROJECT_BINARY_DIR}/preload)
# preload.c defines malloc itself: no builtin knowledge of malloc and friends
# may turn a call in it back into a call of malloc.
set_source_files_properties(${PROJECT_SOURCE_DIR}/src/preload/preload.c
  PROPERTIES COMPILE_OPTIONS "-fno-builtin")

function(heaplab_add_preload target output_name checked)
  add_library(${target} SHARED ${HEAPLAB_SOURCES} ${PROJECT_SOURCE_DIR}/src/preload/preload.c)
  target_include_directories(${target} PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/invariants)
  if(checked)
    target_compile_definitions(${target} PRIVATE HL_CHECKED=1)
  endif()
  target_compile_options(${target} PRIVATE -O2 -ftls-model=initial-exec -Wall -Wextra)
  target_link_options(${target} PRIVATE -Wl,-z,defs)
  target_link_libraries(${target} PRIVATE Threads::Threads)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${output_name}
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${HEAPLAB_PRELOAD_DIR})
endfunction()

heaplab_add_preload(heaplab_preload heaplab OFF)
heaplab_add_preload(heaplab_preload_checked heaplab-checked ON)
set(HEAPLAB_PRELOAD_BUILT ON)
