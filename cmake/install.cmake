# install.cmake - install rules and package files for heaplab.
#
# Installs the static library, include/heaplab.h, the exported target set
# (heaplab::heaplab) with heaplabConfig.cmake and heaplabConfigVersion.cmake
# for find_package, and heaplab.pc for pkg-config.  Included by the top-level
# CMakeLists.txt.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(HEAPLAB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/heaplab
    CACHE STRING "Where heaplabConfig.cmake is installed, relative to the prefix")
mark_as_advanced(HEAPLAB_INSTALL_CMAKEDIR)

install(TARGETS heaplab
  EXPORT heaplabTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/heaplab.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT heaplabTargets
  NAMESPACE heaplab::
  DESTINATION ${HEAPLAB_INSTALL_CMAKEDIR})

# --- CMake package: find_package(heaplab) ------------------------------------
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/heaplabConfig.cmake.in
  ${PROJECT_BINARY_DIR}/heaplabConfig.cmake
  INSTALL_DESTINATION ${HEAPLAB_INSTALL_CMAKEDIR})
# 0.x: a minor release may change the API, so only the same minor matches.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/heaplabConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/heaplabConfig.cmake
  ${PROJECT_BINARY_DIR}/heaplabConfigVersion.cmake
  DESTINATION ${HEAPLAB_INSTALL_CMAKEDIR})

# --- pkg-config: heaplab.pc -----------------------------------------------------
# The .pc finds its prefix from its own location (${pcfiledir}), so an install
# moved to another prefix (cmake --install --prefix, DESTDIR) still works.
set(pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(HEAPLAB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(HEAPLAB_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(HEAPLAB_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH pc_to_prefix /${pc_dir} /)
  string(REGEX REPLACE "/$" "" pc_to_prefix "${pc_to_prefix}")
  set(HEAPLAB_PC_PREFIX "\${pcfiledir}/${pc_to_prefix}")
  set(HEAPLAB_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(HEAPLAB_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# The library is static only, so its thread dependency goes in Libs, not in
# Libs.private: `pkg-config --libs` without --static must link.  FindThreads
# leaves CMAKE_THREAD_LIBS_INIT empty when libc has pthreads (glibc 2.34+).
set(HEAPLAB_PC_THREADS "${CMAKE_THREAD_LIBS_INIT}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/heaplab.pc.in ${PROJECT_BINARY_DIR}/heaplab.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/heaplab.pc DESTINATION ${pc_dir})
