# Compiles the loader tests' BPF programs (tests/loader/progs/*.c) with clang -O2 -g -target bpf
# at build time, into <current binary dir>/loader_progs/<name>.o. The sources are compiled by
# absolute path, so the line info in the objects names files the tests can read back.
#
#   include(${PROJECT_SOURCE_DIR}/tests/loader/progs.cmake)
#   ebpf_loader_progs(ebpf_loader_progs progs_dir)
#   ... then give the test EBPF_LOADER_PROGS_DIR="${progs_dir}" and
#   add_dependencies(<test> ebpf_loader_progs)

# <asm/types.h>, which <linux/bpf.h> includes, lives in the multiarch include directory.
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(_ebpf_bpf_include_default /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
else()
  set(_ebpf_bpf_include_default /usr/include/x86_64-linux-gnu)
endif()
set(EBPF_BPF_INCLUDE_DIR ${_ebpf_bpf_include_default} CACHE PATH
    "Directory holding asm/types.h for clang -target bpf")

function(ebpf_loader_progs target out_dir_var)
  find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/loader_progs)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/progs/*.c)
  set(objects)
  foreach(src ${sources})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${out_dir}/${name}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${BPF_CLANG} -O2 -g -target bpf -I${EBPF_BPF_INCLUDE_DIR} -c ${src} -o ${obj}
      DEPENDS ${src}
      COMMENT "clang -target bpf: loader/progs/${name}.c"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${objects})
  set(${out_dir_var} ${out_dir} PARENT_SCOPE)
endfunction()
