# Servers for the Entra ID (OAuth 2.0), TLS and proxy tests, as CTest
# fixtures: certs, token-issuer, azurite-oauth, proxy and proxy-auth.
# Included from tests/tests.cmake; tests/harness/README.md describes the
# servers.  A test that uses one says FIXTURES_REQUIRED <name> and takes its
# addresses from ${CAIRN_OAUTH_ENV}; a test that writes the issuer's
# config.json or counts its requests.log also says
# RESOURCE_LOCK token-issuer (and likewise proxy, proxy-auth for their
# logs), as harness.selfcheck does.
set(CAIRN_TOKEN_ISSUER_PORT 10510 CACHE STRING
  "Port of the token issuer the tests start")
set(CAIRN_AZURITE_OAUTH_PORT 10511 CACHE STRING
  "Port of the Azurite with HTTPS and OAuth the tests start")
set(CAIRN_PROXY_PORT 10512 CACHE STRING
  "Port of the forward proxy the tests start")
set(CAIRN_PROXY_AUTH_PORT 10513 CACHE STRING
  "Port of the forward proxy with Basic authentication the tests start")
set(CAIRN_SELFCHECK_PORT 10514 CACHE STRING
  "Port of the byte sink harness.selfcheck starts")

set(CAIRN_TEST_CERT_DIR ${CMAKE_BINARY_DIR}/certs)
set(CAIRN_TEST_CA ${CAIRN_TEST_CERT_DIR}/ca.pem)
set(CAIRN_TOKEN_TENANT 72f988bf-86f1-41af-91ab-2d7cd011db47)
set(CAIRN_TOKEN_ISSUER_STATE ${CMAKE_BINARY_DIR}/token-issuer)
set(CAIRN_TOKEN_ISSUER_URL "https://127.0.0.1:${CAIRN_TOKEN_ISSUER_PORT}")
set(CAIRN_AZURITE_OAUTH_DIR ${CMAKE_BINARY_DIR}/azurite-oauth)
set(CAIRN_AZURITE_OAUTH_ENDPOINT
  "https://127.0.0.1:${CAIRN_AZURITE_OAUTH_PORT}/devstoreaccount1")
set(CAIRN_PROXY_STATE ${CMAKE_BINARY_DIR}/proxy)
set(CAIRN_PROXY_URL "http://127.0.0.1:${CAIRN_PROXY_PORT}")
set(CAIRN_PROXY_AUTH_STATE ${CMAKE_BINARY_DIR}/proxy-auth)
set(CAIRN_PROXY_AUTH_URL "http://127.0.0.1:${CAIRN_PROXY_AUTH_PORT}")
set(CAIRN_PROXY_USER proxyuser)
set(CAIRN_PROXY_PASSWORD "proxy pass:word")
set(CAIRN_FAKE_AZ_DIR ${CAIRN_HARNESS}/fake-az)

set(CAIRN_OAUTH_ENV
  "CAIRN_TEST_CA=${CAIRN_TEST_CA}"
  "CAIRN_TEST_CERT_DIR=${CAIRN_TEST_CERT_DIR}"
  "CAIRN_TOKEN_TENANT=${CAIRN_TOKEN_TENANT}"
  "CAIRN_TOKEN_ISSUER_URL=${CAIRN_TOKEN_ISSUER_URL}"
  "CAIRN_TOKEN_ISSUER_STATE=${CAIRN_TOKEN_ISSUER_STATE}"
  "CAIRN_AZURITE_OAUTH_ENDPOINT=${CAIRN_AZURITE_OAUTH_ENDPOINT}"
  "CAIRN_PROXY_URL=${CAIRN_PROXY_URL}"
  "CAIRN_PROXY_STATE=${CAIRN_PROXY_STATE}"
  "CAIRN_PROXY_AUTH_URL=${CAIRN_PROXY_AUTH_URL}"
  "CAIRN_PROXY_AUTH_STATE=${CAIRN_PROXY_AUTH_STATE}"
  "CAIRN_PROXY_USER=${CAIRN_PROXY_USER}"
  "CAIRN_PROXY_PASSWORD=${CAIRN_PROXY_PASSWORD}"
  "CAIRN_FAKE_AZ_DIR=${CAIRN_FAKE_AZ_DIR}")

add_test(NAME certs.make COMMAND ${CAIRN_HARNESS}/certs.sh
  ${CAIRN_TEST_CERT_DIR})
set_tests_properties(certs.make PROPERTIES FIXTURES_SETUP certs TIMEOUT 60)

find_package(Python3 COMPONENTS Interpreter REQUIRED)

add_test(NAME token-issuer.start COMMAND ${CAIRN_HARNESS}/serve.sh start
  ${CAIRN_TOKEN_ISSUER_STATE} ${Python3_EXECUTABLE}
  ${CAIRN_HARNESS}/token_issuer.py --port ${CAIRN_TOKEN_ISSUER_PORT}
  --cert ${CAIRN_TEST_CERT_DIR}/server.pem
  --key ${CAIRN_TEST_CERT_DIR}/server.key
  --state ${CAIRN_TOKEN_ISSUER_STATE})
set_tests_properties(token-issuer.start PROPERTIES
  FIXTURES_SETUP token-issuer FIXTURES_REQUIRED certs TIMEOUT 60)
add_test(NAME token-issuer.stop COMMAND ${CAIRN_HARNESS}/serve.sh stop
  ${CAIRN_TOKEN_ISSUER_STATE})
set_tests_properties(token-issuer.stop PROPERTIES
  FIXTURES_CLEANUP token-issuer TIMEOUT 60)

add_test(NAME azurite-oauth.start COMMAND ${CAIRN_HARNESS}/azurite.sh start
  ${CAIRN_AZURITE_OAUTH_PORT} ${CAIRN_AZURITE_OAUTH_DIR} --oauth basic
  --cert ${CAIRN_TEST_CERT_DIR}/server.pem
  --key ${CAIRN_TEST_CERT_DIR}/server.key)
set_tests_properties(azurite-oauth.start PROPERTIES
  FIXTURES_SETUP azurite-oauth FIXTURES_REQUIRED certs
  ENVIRONMENT "AZURITE_CA=${CAIRN_TEST_CA}" TIMEOUT 60)
add_test(NAME azurite-oauth.stop COMMAND ${CAIRN_HARNESS}/azurite.sh stop
  ${CAIRN_AZURITE_OAUTH_DIR})
set_tests_properties(azurite-oauth.stop PROPERTIES
  FIXTURES_CLEANUP azurite-oauth TIMEOUT 60)

add_test(NAME proxy.start COMMAND ${CAIRN_HARNESS}/serve.sh start
  ${CAIRN_PROXY_STATE} ${Python3_EXECUTABLE} ${CAIRN_HARNESS}/proxy.py
  --port ${CAIRN_PROXY_PORT} --state ${CAIRN_PROXY_STATE})
set_tests_properties(proxy.start PROPERTIES FIXTURES_SETUP proxy TIMEOUT 60)
add_test(NAME proxy.stop COMMAND ${CAIRN_HARNESS}/serve.sh stop
  ${CAIRN_PROXY_STATE})
set_tests_properties(proxy.stop PROPERTIES FIXTURES_CLEANUP proxy TIMEOUT 60)

add_test(NAME proxy-auth.start COMMAND ${CAIRN_HARNESS}/serve.sh start
  ${CAIRN_PROXY_AUTH_STATE} ${Python3_EXECUTABLE} ${CAIRN_HARNESS}/proxy.py
  --port ${CAIRN_PROXY_AUTH_PORT} --state ${CAIRN_PROXY_AUTH_STATE}
  --user ${CAIRN_PROXY_USER} --password ${CAIRN_PROXY_PASSWORD})
set_tests_properties(proxy-auth.start PROPERTIES
  FIXTURES_SETUP proxy-auth TIMEOUT 60)
add_test(NAME proxy-auth.stop COMMAND ${CAIRN_HARNESS}/serve.sh stop
  ${CAIRN_PROXY_AUTH_STATE})
set_tests_properties(proxy-auth.stop PROPERTIES
  FIXTURES_CLEANUP proxy-auth TIMEOUT 60)

# The servers themselves, checked with curl: harness.selfcheck.
set(CAIRN_SELFCHECK_ENV ${CAIRN_OAUTH_ENV} ${CAIRN_AZURITE_ENV}
  "CAIRN_HARNESS=${CAIRN_HARNESS}"
  "CAIRN_SELFCHECK_PORT=${CAIRN_SELFCHECK_PORT}")
add_test(NAME harness.selfcheck COMMAND bash
  ${PROJECT_SOURCE_DIR}/tests/e2e/harness_selfcheck.sh)
set_tests_properties(harness.selfcheck PROPERTIES
  ENVIRONMENT "${CAIRN_SELFCHECK_ENV}"
  FIXTURES_REQUIRED "certs;token-issuer;azurite-oauth;azurite;proxy;proxy-auth"
  RESOURCE_LOCK "token-issuer;proxy;proxy-auth" LABELS harness TIMEOUT 120)
