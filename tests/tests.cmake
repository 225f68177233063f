# Servers the tests need, as CTest fixtures, and the tests that use them.
set(CAIRN_HARNESS ${CMAKE_CURRENT_SOURCE_DIR}/harness)
set(CAIRN_AZURITE_PORT 10500 CACHE STRING "Port of the Azurite the tests start")
set(CAIRN_AZURITE_DIR ${CMAKE_BINARY_DIR}/azurite)
set(CAIRN_AZURITE_ENDPOINT
  "http://127.0.0.1:${CAIRN_AZURITE_PORT}/devstoreaccount1")

add_test(NAME azurite.start COMMAND ${CAIRN_HARNESS}/azurite.sh start
  ${CAIRN_AZURITE_PORT} ${CAIRN_AZURITE_DIR})
set_tests_properties(azurite.start PROPERTIES FIXTURES_SETUP azurite)
add_test(NAME azurite.stop COMMAND ${CAIRN_HARNESS}/azurite.sh stop
  ${CAIRN_AZURITE_DIR})
set_tests_properties(azurite.stop PROPERTIES FIXTURES_CLEANUP azurite)

# Tests that talk to Azurite read its endpoint from the environment.
set(CAIRN_AZURITE_ENV
  "CAIRN_TEST_AZURITE_ENDPOINT=${CAIRN_AZURITE_ENDPOINT}")
include(${CAIRN_HARNESS}/oauth.cmake)

# Any unit test whose file name contains "_azurite" needs the server.
foreach(source ${CAIRN_UNIT_TESTS})
  get_filename_component(name ${source} NAME_WE)
  if(name MATCHES "_azurite")
    set_tests_properties(unit.${name} PROPERTIES
      FIXTURES_REQUIRED azurite LABELS azurite
      ENVIRONMENT "${CAIRN_AZURITE_ENV}")
  endif()
endforeach()

# Any unit test whose file name contains "_oauth" needs the token issuer
# and Azurite over HTTPS with OAuth; it rewrites the issuer's config.
foreach(source ${CAIRN_UNIT_TESTS})
  get_filename_component(name ${source} NAME_WE)
  if(name MATCHES "_oauth")
    set_tests_properties(unit.${name} PROPERTIES
      FIXTURES_REQUIRED "token-issuer;azurite-oauth" LABELS azurite
      RESOURCE_LOCK token-issuer ENVIRONMENT "${CAIRN_OAUTH_ENV}")
  endif()
endforeach()

file(GLOB CAIRN_TEST_EXTRA CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/*/tests.cmake)
foreach(extra ${CAIRN_TEST_EXTRA})
  include(${extra})
endforeach()
