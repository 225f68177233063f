# Labels and time limits of the field-case tests.
#
# The "long" tests take minutes each (10,000 files through a faulty
# link, 12,345 blobs, a write of more than 2 GiB, 100 MiB blocks at
# 1 MiB/s); they are left out of the default run (scripts/test.sh passes
# -LE long) and run with `ctest -L long` (see tests/harness/README.md).
set_tests_properties(unit.test_azure_long_azurite PROPERTIES
  LABELS "long;azurite" TIMEOUT 3600)

# The suites on Azurite list and remove thousands of blobs.
set_tests_properties(
  unit.test_fs_conformance_azurite
  unit.test_fs_conformance_azurite_sas
  unit.test_azure_faults_azurite
  PROPERTIES TIMEOUT 600)
