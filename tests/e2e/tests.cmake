# End-to-end tests: the cairn binary run as a user would.
set(CAIRN_E2E ${CMAKE_CURRENT_LIST_DIR})
set(CAIRN_E2E_ENV
  "CAIRN_BIN=$<TARGET_FILE:cairn>"
  "CAIRN_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

# The interop instance skips the API version check because the Azure SDK
# for JavaScript sends a newer version than Azurite knows; every other
# test uses the strict instance.
set(CAIRN_INTEROP_PORT 10501 CACHE STRING "Port of the Azurite the interop test starts")
set(CAIRN_INTEROP_DIR ${CMAKE_BINARY_DIR}/azurite-interop)
add_test(NAME azurite-interop.start COMMAND ${CAIRN_HARNESS}/azurite.sh
  start ${CAIRN_INTEROP_PORT} ${CAIRN_INTEROP_DIR} --skipApiVersionCheck)
set_tests_properties(azurite-interop.start PROPERTIES
  FIXTURES_SETUP azurite-interop)
add_test(NAME azurite-interop.stop COMMAND ${CAIRN_HARNESS}/azurite.sh
  stop ${CAIRN_INTEROP_DIR})
set_tests_properties(azurite-interop.stop PROPERTIES
  FIXTURES_CLEANUP azurite-interop)

add_test(NAME e2e.local COMMAND bash ${CAIRN_E2E}/local.sh)
set_tests_properties(e2e.local PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV}" LABELS e2e TIMEOUT 300)

add_test(NAME e2e.azure COMMAND bash ${CAIRN_E2E}/azure.sh)
set_tests_properties(e2e.azure PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};CAIRN_TEST_AZURITE_ENDPOINT=http://127.0.0.1:${CAIRN_INTEROP_PORT}/devstoreaccount1"
  FIXTURES_REQUIRED azurite-interop LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.bad_input COMMAND bash ${CAIRN_E2E}/bad_input.sh)
set_tests_properties(e2e.bad_input PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_AZURITE_ENV}"
  FIXTURES_REQUIRED azurite LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.import COMMAND bash ${CAIRN_E2E}/import.sh)
set_tests_properties(e2e.import PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};CAIRN_TEST_AZURITE_ENDPOINT=http://127.0.0.1:${CAIRN_INTEROP_PORT}/devstoreaccount1"
  FIXTURES_REQUIRED azurite-interop LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.azure_tokens COMMAND bash ${CAIRN_E2E}/azure_tokens.sh)
set_tests_properties(e2e.azure_tokens PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_OAUTH_ENV}"
  FIXTURES_REQUIRED "token-issuer;azurite-oauth" RESOURCE_LOCK token-issuer
  LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.proxy COMMAND bash ${CAIRN_E2E}/proxy.sh)
set_tests_properties(e2e.proxy PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_AZURITE_ENV};${CAIRN_OAUTH_ENV}"
  FIXTURES_REQUIRED "azurite;proxy;proxy-auth;token-issuer;azurite-oauth"
  RESOURCE_LOCK "proxy;proxy-auth;token-issuer"
  LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.secrets COMMAND bash ${CAIRN_E2E}/secrets.sh)
set_tests_properties(e2e.secrets PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV}" LABELS e2e TIMEOUT 300)

add_test(NAME e2e.azure_methods COMMAND bash ${CAIRN_E2E}/azure_methods.sh)
set_tests_properties(e2e.azure_methods PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_AZURITE_ENV}"
  FIXTURES_REQUIRED azurite LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.connectors COMMAND bash ${CAIRN_E2E}/connectors.sh)
set_tests_properties(e2e.connectors PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_AZURITE_ENV}"
  FIXTURES_REQUIRED azurite LABELS "e2e;azurite" TIMEOUT 300)

add_test(NAME e2e.connectors_oauth COMMAND bash
  ${CAIRN_E2E}/connectors_oauth.sh)
set_tests_properties(e2e.connectors_oauth PROPERTIES
  ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_OAUTH_ENV}"
  FIXTURES_REQUIRED "certs;token-issuer;azurite-oauth"
  RESOURCE_LOCK token-issuer LABELS "e2e;azurite" TIMEOUT 300)

# The same runs under valgrind, when it is installed: any memory error or
# leak makes cairn exit 99, which fails the checks.
find_program(CAIRN_VALGRIND valgrind)
if(CAIRN_VALGRIND AND NOT CAIRN_SANITIZE)
  set(CAIRN_VALGRIND_WRAP "CAIRN_WRAP=${CAIRN_VALGRIND} -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99")
  add_test(NAME e2e.local_valgrind COMMAND bash ${CAIRN_E2E}/local.sh)
  set_tests_properties(e2e.local_valgrind PROPERTIES
    ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_VALGRIND_WRAP}"
    LABELS "e2e;valgrind" TIMEOUT 600)
  add_test(NAME e2e.azure_valgrind COMMAND bash ${CAIRN_E2E}/azure.sh)
  set_tests_properties(e2e.azure_valgrind PROPERTIES
    ENVIRONMENT "${CAIRN_E2E_ENV};${CAIRN_VALGRIND_WRAP};CAIRN_TEST_AZURITE_ENDPOINT=http://127.0.0.1:${CAIRN_INTEROP_PORT}/devstoreaccount1"
    FIXTURES_REQUIRED azurite-interop LABELS "e2e;azurite;valgrind"
    TIMEOUT 600)
endif()
