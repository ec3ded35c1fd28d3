# SPDX-License-Identifier: Apache-2.0
# `cmake --install`: the binary, the operator scripts, the documents, a man page and bash/zsh
# completion generated from the binary's own help at build time; `cpack -G DEB`: a Debian
# package whose dependencies are Debian packages (dpkg-shlibdeps over the built binary).
include(GNUInstallDirs)
# share/doc/nccl-doctor (GNUInstallDirs would use the CMake project name, nccl_doctor).
set(NCD_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/nccl-doctor)

set(NCD_GEN_DIR ${CMAKE_BINARY_DIR}/packaging)
add_custom_command(
  OUTPUT ${NCD_GEN_DIR}/nccl-doctor.1 ${NCD_GEN_DIR}/nccl-doctor.bash ${NCD_GEN_DIR}/_nccl-doctor
  COMMAND ${CMAKE_COMMAND} -E make_directory ${NCD_GEN_DIR}
  COMMAND bash ${PROJECT_SOURCE_DIR}/packaging/gen-man.sh $<TARGET_FILE:nccl-doctor> ${NCD_GEN_DIR}/nccl-doctor.1
  COMMAND bash ${PROJECT_SOURCE_DIR}/packaging/gen-completions.sh $<TARGET_FILE:nccl-doctor> ${NCD_GEN_DIR}
  DEPENDS nccl-doctor ${PROJECT_SOURCE_DIR}/packaging/gen-man.sh ${PROJECT_SOURCE_DIR}/packaging/gen-completions.sh
  COMMENT "Generating the man page and shell completion from nccl-doctor --help"
  VERBATIM)
add_custom_target(ncd_docs ALL DEPENDS ${NCD_GEN_DIR}/nccl-doctor.1 ${NCD_GEN_DIR}/nccl-doctor.bash
                                       ${NCD_GEN_DIR}/_nccl-doctor)

install(TARGETS nccl-doctor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS scripts/nightly-sweep scripts/slurm-preflight.sbatch scripts/ncd-bounded
        DESTINATION ${CMAKE_INSTALL_DATADIR}/nccl-doctor/scripts)
install(FILES README.md DESTINATION ${NCD_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${NCD_DOCDIR} FILES_MATCHING PATTERN "*.md"
        PATTERN "developing.md" EXCLUDE)
install(FILES packaging/Dockerfile DESTINATION ${NCD_DOCDIR}/examples)
install(FILES packaging/k8s/mpijob.yaml DESTINATION ${NCD_DOCDIR}/examples)
install(FILES packaging/grafana/nccl-doctor.json DESTINATION ${NCD_DOCDIR}/examples
        RENAME grafana-nccl-doctor.json)
install(FILES ${NCD_GEN_DIR}/nccl-doctor.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${NCD_GEN_DIR}/nccl-doctor.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME nccl-doctor)
install(FILES ${NCD_GEN_DIR}/_nccl-doctor DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# ---------------- Debian package ----------------
set(CPACK_PACKAGE_NAME nccl-doctor)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "nccl-doctor maintainers <nccl-doctor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "GPU cluster fabric health check (NCCL, PCIe, NVLink, RDMA)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)  # no debug info in the package (RelWithDebInfo builds)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/nccl-doctor")
# The launcher (mpirun) and lstopo are what operators use beside it; not needed for offline use.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openmpi-bin")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "hwloc, python3")
if(NCD_HAVE_NCCL)
  # NCCL and the CUDA runtime come from NVIDIA's repository, not Debian: dpkg-shlibdeps cannot
  # name a package for them, so this build lists its Debian dependencies by hand and leaves
  # libnccl2/CUDA to the site (Recommends).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libstdc++6, libgcc-s1, libhwloc15, libopenmpi3, libfmt9, libpugixml1v5, zlib1g")
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openmpi-bin, libnccl2")
else()
  # The NCCL-less build: every shared library it needs is in Debian (dpkg-shlibdeps reads them
  # off the binary: libhwloc15, libopenmpi3, libfmt9, libpugixml1v5, zlib1g, libc6, libstdc++6).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Is this GPU cluster's fabric healthy, and if not, which GPU, NIC, link, ring or setting is wrong?\n\
Runs under mpirun or srun --mpi=pmix; offline commands (log, rings, diff, explain) need neither.\n\
NCCL and CUDA are not Debian packages: this package is the host (MPI) build unless it was built\n\
against NVIDIA's libnccl2, which then comes from NVIDIA's repository.")
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/" "/\\\\.git/")
include(CPack)
