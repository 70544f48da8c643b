# All third-party code comes from Debian packages (scripts/setup.sh installs them).

# The `soma` command starts for every simulation, and binding the symbols of
# shared libraries was most of its start: about 22 million instructions of
# the dynamic loader, three quarters of them for libSBML's C++ symbols
# (bench/RESULTS.md, Startup). An executable with the property
# SOMA_STATIC_DEPS links the static archives that the same Debian -dev
# packages ship (libsbml-static.a, libsundials_*.a, libklu.a, libglpk.a)
# instead; every other target links the shared libraries. Switch off with
# -DSOMA_STATIC_DEPS=OFF, or where an archive is missing.
option(SOMA_STATIC_DEPS "Link the soma command with the static archives of libSBML, SUNDIALS, KLU and GLPK" ON)
function(soma_link_shared_or_static target)
  # SHARED: what other targets link. STATIC: archive names (libNAME.a).
  # STATIC_NEEDS: shared libraries the archives call into (-lNAME).
  cmake_parse_arguments(ARG "" "" "SHARED;STATIC;STATIC_NEEDS" ${ARGN})
  set(static_ok ${SOMA_STATIC_DEPS})
  set(archives "")
  foreach(name IN LISTS ARG_STATIC)
    find_library(SOMA_STATIC_${name} NAMES lib${name}.a)
    if(NOT SOMA_STATIC_${name})
      set(static_ok OFF)
    endif()
    list(APPEND archives ${SOMA_STATIC_${name}})
  endforeach()
  if(NOT static_ok)
    target_link_libraries(${target} INTERFACE ${ARG_SHARED})
    return()
  endif()
  set(wants_static "$<BOOL:$<TARGET_PROPERTY:SOMA_STATIC_DEPS>>")
  foreach(lib IN LISTS ARG_SHARED)
    target_link_libraries(${target} INTERFACE "$<$<NOT:${wants_static}>:${lib}>")
  endforeach()
  foreach(lib IN LISTS archives ARG_STATIC_NEEDS)
    target_link_libraries(${target} INTERFACE "$<${wants_static}:${lib}>")
  endforeach()
endfunction()

# libSBML (libsbml5-dev, built with the comp package). Debian's sbml-config.cmake
# re-runs find modules that need extra CMake includes, so we import the shared
# library directly; it carries its own dependencies (libxml2, zlib, bz2), which
# its static archive needs named.
find_path(SBML_INCLUDE_DIR sbml/SBMLTypes.h REQUIRED)
find_library(SBML_LIB NAMES sbml REQUIRED)
add_library(soma_libsbml INTERFACE)
target_include_directories(soma_libsbml SYSTEM INTERFACE ${SBML_INCLUDE_DIR})
soma_link_shared_or_static(soma_libsbml SHARED ${SBML_LIB} STATIC sbml-static STATIC_NEEDS xml2 z bz2)
add_library(sbml::sbml ALIAS soma_libsbml)

# GLPK (libglpk-dev): the LP solver behind flux balance analysis (src/fba).
find_path(GLPK_INCLUDE_DIR glpk.h REQUIRED)
find_library(GLPK_LIB NAMES glpk REQUIRED)
add_library(soma_glpk INTERFACE)
target_include_directories(soma_glpk SYSTEM INTERFACE ${GLPK_INCLUDE_DIR})
soma_link_shared_or_static(soma_glpk SHARED ${GLPK_LIB} STATIC glpk STATIC_NEEDS gmp ltdl z)
add_library(glpk::glpk ALIAS soma_glpk)

# libzip (libzip-dev): reads and writes the zip container of COMBINE/OMEX
# archives (src/formats/omex).
find_path(LIBZIP_INCLUDE_DIR zip.h REQUIRED)
find_library(LIBZIP_LIB NAMES zip REQUIRED)
add_library(soma_libzip INTERFACE)
target_include_directories(soma_libzip SYSTEM INTERFACE ${LIBZIP_INCLUDE_DIR})
target_link_libraries(soma_libzip INTERFACE ${LIBZIP_LIB})
add_library(libzip::zip ALIAS soma_libzip)

# libxml2 (libxml2-dev; libSBML links it too): the OMEX manifest and RDF
# metadata parser.
find_path(LIBXML2_INCLUDE_DIR libxml/parser.h PATH_SUFFIXES libxml2 REQUIRED)
find_library(LIBXML2_LIB NAMES xml2 REQUIRED)
add_library(soma_libxml2 INTERFACE)
target_include_directories(soma_libxml2 SYSTEM INTERFACE ${LIBXML2_INCLUDE_DIR})
target_link_libraries(soma_libxml2 INTERFACE ${LIBXML2_LIB})
add_library(libxml2::xml2 ALIAS soma_libxml2)

# zlib (zlib1g-dev) and bzip2 (libbz2-dev): compressed model files
# (src/formats/common/compressed.h).
find_package(ZLIB REQUIRED)
find_package(BZip2 REQUIRED)

find_package(CLI11 REQUIRED CONFIG)            # libcli11-dev
find_package(nlohmann_json REQUIRED CONFIG)    # nlohmann-json3-dev
find_package(Eigen3 REQUIRED CONFIG)          # libeigen3-dev
find_package(Boost REQUIRED COMPONENTS context)  # libboost-context1.74-dev (trial members in lanes: fibers)
find_package(GTest REQUIRED)                   # libgtest-dev

# SUNDIALS 6.4 (libsundials-dev). Its exported CMake targets reference every
# optional component, so we import the few shared libraries we use directly.
find_path(SUNDIALS_INCLUDE_DIR cvodes/cvodes.h REQUIRED)
set(_soma_sundials_components
    cvodes kinsol nvecserial sunmatrixdense sunmatrixsparse sunlinsoldense sunlinsolklu generic)
set(SOMA_SUNDIALS_LIBS "")
foreach(c IN LISTS _soma_sundials_components)
  find_library(SUNDIALS_${c}_LIB NAMES sundials_${c} REQUIRED)
  list(APPEND SOMA_SUNDIALS_LIBS ${SUNDIALS_${c}_LIB})
endforeach()
find_library(KLU_LIB NAMES klu REQUIRED)
add_library(soma_sundials INTERFACE)
target_include_directories(soma_sundials SYSTEM INTERFACE ${SUNDIALS_INCLUDE_DIR} /usr/include/suitesparse)
list(TRANSFORM _soma_sundials_components PREPEND sundials_ OUTPUT_VARIABLE _soma_sundials_static)
soma_link_shared_or_static(soma_sundials SHARED ${SOMA_SUNDIALS_LIBS} ${KLU_LIB}
                           STATIC ${_soma_sundials_static} klu amd colamd btf suitesparseconfig)
add_library(SUNDIALS::soma ALIAS soma_sundials)

if(SOMA_BUILD_BENCH)
  find_package(benchmark CONFIG)
  if(NOT benchmark_FOUND)
    message(STATUS "Google Benchmark not found: micro-benchmarks disabled")
    set(SOMA_BUILD_BENCH OFF)
  endif()
endif()

# Repository storage and crypto: SQLite (libsqlite3-dev, with FTS5), libpq
# (libpq-dev) and OpenSSL's libcrypto (libssl-dev).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
find_package(OpenSSL REQUIRED)

# Ceres Solver (libceres-dev): the trust-region least-squares solver behind
# parameter estimation (src/infer).
find_package(Ceres REQUIRED CONFIG)

# LLVM 14 (llvm-14-dev): native code for the expression programs of the
# solver's hot loop (src/expr/jit.h). Without it the bytecode interpreter
# runs everything (the same numbers, slower).
option(SOMA_WITH_LLVM "Compile hot expression programs to native code with LLVM 14's ORC JIT" ON)
if(SOMA_WITH_LLVM)
  find_path(LLVM14_INCLUDE_DIR llvm/ExecutionEngine/Orc/LLJIT.h PATHS /usr/lib/llvm-14/include NO_DEFAULT_PATH)
  find_library(LLVM14_LIB NAMES LLVM-14 PATHS /usr/lib/llvm-14/lib NO_DEFAULT_PATH)
  if(LLVM14_INCLUDE_DIR AND LLVM14_LIB)
    add_library(soma_llvm INTERFACE)
    target_include_directories(soma_llvm SYSTEM INTERFACE ${LLVM14_INCLUDE_DIR})
    target_compile_definitions(soma_llvm INTERFACE
      __STDC_CONSTANT_MACROS __STDC_FORMAT_MACROS __STDC_LIMIT_MACROS)
    # The JIT's components from LLVM's static libraries (also in
    # llvm-14-dev) when present: the plugin then holds only the parts it
    # uses, and loading it costs about 10 ms of relocations instead of the
    # 60 ms of the whole libLLVM-14.so (84 thousand relocations instead of
    # 355 thousand), paid by every process that asks for native code.
    find_program(LLVM14_CONFIG NAMES llvm-config-14 PATHS /usr/lib/llvm-14/bin)
    set(_llvm_static "")
    if(LLVM14_CONFIG)
      execute_process(COMMAND ${LLVM14_CONFIG} --link-static --libs orcjit native
                      OUTPUT_VARIABLE _llvm_libs RESULT_VARIABLE _rc_libs ERROR_QUIET
                      OUTPUT_STRIP_TRAILING_WHITESPACE)
      execute_process(COMMAND ${LLVM14_CONFIG} --link-static --system-libs
                      OUTPUT_VARIABLE _llvm_sys RESULT_VARIABLE _rc_sys ERROR_QUIET
                      OUTPUT_STRIP_TRAILING_WHITESPACE)
      execute_process(COMMAND ${LLVM14_CONFIG} --libdir
                      OUTPUT_VARIABLE _llvm_libdir RESULT_VARIABLE _rc_dir ERROR_QUIET
                      OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(_rc_libs EQUAL 0 AND _rc_sys EQUAL 0 AND _rc_dir EQUAL 0 AND _llvm_libs)
        separate_arguments(_llvm_static UNIX_COMMAND "-L${_llvm_libdir} ${_llvm_libs} ${_llvm_sys}")
      endif()
    endif()
    if(_llvm_static)
      # LLVM's symbols stay inside the plugin; unused sections are dropped.
      target_link_options(soma_llvm INTERFACE -Wl,--exclude-libs,ALL -Wl,--gc-sections)
      target_link_libraries(soma_llvm INTERFACE ${_llvm_static})
      message(STATUS "LLVM 14 JIT: static components from ${_llvm_libdir}")
    else()
      target_link_libraries(soma_llvm INTERFACE ${LLVM14_LIB})
      message(STATUS "LLVM 14 JIT: ${LLVM14_LIB}")
    endif()
    add_library(llvm::llvm ALIAS soma_llvm)
  else()
    message(STATUS "LLVM 14 not found (llvm-14-dev): expression programs are interpreted only")
    set(SOMA_WITH_LLVM OFF)
  endif()
endif()
