# cmocka.cmake - finds cmocka, the test framework, and defines cmocka::cmocka.
#
# Debian's libcmocka-dev ships a pkg-config file; the find_path/find_library
# fallback covers an install without one (a prefix given in CMAKE_PREFIX_PATH).
if(TARGET cmocka::cmocka)
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
endif()

if(CMOCKA_FOUND)
  add_library(cmocka::cmocka ALIAS PkgConfig::CMOCKA)
  message(STATUS "cmocka ${CMOCKA_VERSION} (pkg-config)")
  return()
endif()

find_path(CMOCKA_INCLUDE_DIR cmocka.h)
find_library(CMOCKA_LIBRARY cmocka)
if(NOT CMOCKA_INCLUDE_DIR OR NOT CMOCKA_LIBRARY)
  message(FATAL_ERROR
    "heaplab's tests need cmocka, which was not found.  On Debian or Ubuntu: "
    "apt-get install libcmocka-dev (or configure with -DHEAPLAB_DEVELOPER=OFF "
    "to build the library alone).")
endif()
add_library(cmocka::cmocka UNKNOWN IMPORTED)
set_target_properties(cmocka::cmocka PROPERTIES
  IMPORTED_LOCATION "${CMOCKA_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CMOCKA_INCLUDE_DIR}")
message(STATUS "cmocka: ${CMOCKA_LIBRARY}")
