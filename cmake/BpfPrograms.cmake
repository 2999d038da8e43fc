# Building C programs for BPF at build time: clang -O2 -g -target bpf against libbpf's headers.
#
#   ebpf_bpf_programs(<target> <out_dir_var> DIR <dir with *.c> [NAME <subdir>]
#                     [FLAGS <extra clang flags>...] [DEPENDS <headers>...])
#
# compiles every <dir>/*.c by absolute path (so line info names files tests can read back) into
# <current binary dir>/<subdir>/<name>.o; <target> builds them all and <out_dir_var> gets the
# directory.

find_program(BPF_CLANG NAMES clang clang-14)
if(NOT BPF_CLANG)
  ebpf_missing("clang (for -target bpf)" clang)
endif()

# <asm/types.h>, which <linux/bpf.h> includes, lives in the multiarch include directory.
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(_ebpf_bpf_include_default /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
else()
  set(_ebpf_bpf_include_default /usr/include/x86_64-linux-gnu)
endif()
set(EBPF_BPF_INCLUDE_DIR ${_ebpf_bpf_include_default} CACHE PATH
    "Directory holding asm/types.h for clang -target bpf")

# kprobe programs read struct pt_regs through libbpf's bpf_tracing.h, which needs the architecture.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(EBPF_BPF_TARGET_ARCH __TARGET_ARCH_arm64)
else()
  set(EBPF_BPF_TARGET_ARCH __TARGET_ARCH_x86)
endif()

function(ebpf_bpf_programs target out_dir_var)
  cmake_parse_arguments(ARG "" "DIR;NAME" "FLAGS;DEPENDS" ${ARGN})
  if(NOT ARG_NAME)
    set(ARG_NAME ${target})
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME})
  file(GLOB sources CONFIGURE_DEPENDS ${ARG_DIR}/*.c)
  set(objects)
  foreach(src ${sources})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${out_dir}/${name}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${BPF_CLANG} -O2 -g -target bpf ${ARG_FLAGS} -I${EBPF_BPF_INCLUDE_DIR} -c ${src} -o ${obj}
      DEPENDS ${src} ${ARG_DEPENDS}
      COMMENT "clang -target bpf: ${name}.c"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${objects})
  set(${out_dir_var} ${out_dir} PARENT_SCOPE)
endfunction()
