# Compiles ebpf-run's test programs (tests/cli/progs/*.c) with clang -O2 -g -target bpf at build
# time into <current binary dir>/cli_progs/<name>.o.
#
#   include(cli/progs.cmake)
#   ebpf_cli_progs(ebpf_cli_progs progs_dir)
#   ... then give the test EBPF_CLI_PROGS_DIR="${progs_dir}" and add_dependencies(<test>
#   ebpf_cli_progs)
function(ebpf_cli_progs target out_dir_var)
  find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    set(include_dir /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  else()
    set(include_dir /usr/include/x86_64-linux-gnu)
  endif()
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(arch __TARGET_ARCH_arm64)
  else()
    set(arch __TARGET_ARCH_x86)
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/cli_progs)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/progs/*.c)
  set(objects)
  foreach(src ${sources})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${out_dir}/${name}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${BPF_CLANG} -O2 -g -target bpf -D${arch} -I${include_dir} -c ${src} -o ${obj}
      DEPENDS ${src}
      COMMENT "clang -target bpf: cli/progs/${name}.c"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${objects})
  set(${out_dir_var} ${out_dir} PARENT_SCOPE)
endfunction()
