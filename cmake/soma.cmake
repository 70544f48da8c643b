# Helpers that keep every component's CMakeLists.txt to a few lines.
#
#   soma_add_library(NAME SOURCES a.cpp b.cpp DEPS soma::core PRIVATE_DEPS x)
#     defines target soma_NAME with alias soma::NAME; headers are included as
#     "NAME/header.h" relative to src/.
#   soma_add_test(NAME SOURCES foo_test.cpp DEPS soma::x)
#     a GoogleTest executable registered with CTest (test names discovered).

# Designated initialisers that leave defaulted members out are intended.
set(SOMA_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter -Wno-missing-field-initializers)

function(soma_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(soma_${name} STATIC ${ARG_SOURCES})
  add_library(soma::${name} ALIAS soma_${name})
  target_include_directories(soma_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(soma_${name} PRIVATE ${SOMA_WARNINGS})
  target_link_libraries(soma_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(soma_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# Test code itself is compiled without optimisation in optimised builds: the
# code under test lives in the soma::* libraries (optimised), and -O0 halves
# the compile time of the test files, most of the build. Tests that time the
# library are benchmarks (bench/), not tests.
function(soma_test_compile_options target)
  target_compile_options(${target} PRIVATE ${SOMA_WARNINGS} $<$<CONFIG:RelWithDebInfo,Release,MinSizeRel>:-O0>)
endfunction()

function(soma_add_test name)
  if(NOT SOMA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  soma_test_compile_options(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    SOMA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SOMA_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()
