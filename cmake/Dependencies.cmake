# Every dependency comes from a Debian package; a missing one stops the configure step with the
# package to install.
find_package(PkgConfig)

function(ebpf_missing what package)
  message(FATAL_ERROR "${what} not found: install it with 'apt-get install ${package}'")
endfunction()

find_package(Boost COMPONENTS program_options)
if(NOT Boost_PROGRAM_OPTIONS_FOUND)
  ebpf_missing("Boost.Program_options" libboost-program-options-dev)
endif()

find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  ebpf_missing("nlohmann-json" nlohmann-json3-dev)
endif()

find_package(asmjit QUIET)
if(NOT asmjit_FOUND)
  ebpf_missing("asmjit" libasmjit-dev)
endif()

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  ebpf_missing("zlib" zlib1g-dev)
endif()

if(NOT PKG_CONFIG_FOUND)
  ebpf_missing("pkg-config" pkg-config)
endif()
pkg_check_modules(CAPSTONE QUIET IMPORTED_TARGET capstone)
if(NOT CAPSTONE_FOUND)
  ebpf_missing("Capstone" libcapstone-dev)
endif()
# ebpf-run --pcap reads pcap and pcapng captures (libpcap 1.1 and later).
pkg_check_modules(PCAP QUIET IMPORTED_TARGET libpcap>=1.1)
if(NOT PCAP_FOUND)
  ebpf_missing("libpcap" libpcap-dev)
endif()

if(EBPF_BUILD_TESTS)
  find_package(Catch2 2 QUIET)
  if(NOT Catch2_FOUND)
    ebpf_missing("Catch2" catch2)
  endif()
endif()

if(EBPF_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    ebpf_missing("Google Benchmark" libbenchmark-dev)
  endif()
endif()

# The kernel oracle (BPF_PROG_LOAD, BPF_PROG_TEST_RUN) is Linux-only and optional elsewhere.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  pkg_check_modules(LIBBPF QUIET IMPORTED_TARGET libbpf)
  if(NOT LIBBPF_FOUND)
    ebpf_missing("libbpf" libbpf-dev)
  endif()
endif()
