/* tests/unit/test_xml.c - lib/http/xml.c on libcloud's EC2 fixtures
 * (tests/files/aws/): instance ids, addresses, states and tags out of
 * DescribeInstances, RunInstances, TerminateInstances, DescribeImages and
 * an error answer; and refusals (DOCTYPE/entities, depth, bad XML). */
#include "unit.h"

static struct xml *load(const char *name)
{
  char *rel = xasprintf("aws/%s", name), *path = unit_file(rel);
  size_t len;
  char *s = xreadfile(path, 1 << 20, &len);
  struct xml *x = xml_parse(s, len);

  if (!x) UNIT_FAIL("%s: %s", name, mvm.err);
  free(s);
  free(path);
  free(rel);
  return x;
}

static void bad(const char *doc, const char *want)
{
  TEST_START("xml refuses bad input");
  ASSERT_NULL(xml_parse(doc, strlen(doc)));
  if (!strstr(mvm.err, want)) UNIT_FAIL("mvm.err \"%s\", want \"%s\"",
                                        mvm.err, want);
  TEST_DONE();
}

static void test_xml(void)
{
  const struct xml *it[8];
  struct xml *x;
  int n;
  char deep[XML_DEPTH_MAX * 8 + 64] = "";

  TEST_START("xml DescribeInstances");
  x = load("describe_instances.xml");
  ASSERT_STR_EQ(xml_name(x), "DescribeInstancesResponse");
  n = xml_all(x, "reservationSet/item/instancesSet/item", it, 8);
  ASSERT_INT_EQ(n, 2);
  if (n == 2) {
    ASSERT_STR_EQ(xml_text(it[0], "instanceId"), "i-4382922a");
    ASSERT_STR_EQ(xml_text(it[0], "ipAddress"), "1.2.3.4");
    ASSERT_STR_EQ(xml_text(it[0], "instanceState/name"), "stopped");
    ASSERT_STR_EQ(xml_text(it[0], "tagSet"), "");
    ASSERT_STR_EQ(xml_text(it[1], "instanceId"), "i-8474834a");
    ASSERT_STR_EQ(xml_text(it[1], "ipAddress"), "1.2.3.5");
    ASSERT_STR_EQ(xml_text(it[1], "tagSet/item/key"), "Name");
    ASSERT_INT_EQ(xml_all(it[1], "tagSet/item", it + 2, 6), 2);
    ASSERT_STR_EQ(xml_text(it[3], "value"), "VPC Test");
  }
  ASSERT_NULL(xml_text(x, "nosuch/path"));
  ASSERT_INT_EQ(xml_all(x, "reservationSet/item/instancesSet/item", it, 1),
                1);
  xml_free(x);
  TEST_DONE();

  TEST_START("xml RunInstances, TerminateInstances");
  x = load("run_instances.xml");
  ASSERT_STR_EQ(xml_text(x, "instancesSet/item/instanceId"), "i-2ba64342");
  ASSERT_STR_EQ(xml_text(x, "instancesSet/item/instanceState/name"),
                "pending");
  xml_free(x);
  x = load("terminate_instances.xml");
  ASSERT_STR_EQ(xml_text(x, "instancesSet/item/shutdownState/name"),
                "shutting-down");
  xml_free(x);
  TEST_DONE();

  TEST_START("xml DescribeImages");
  x = load("describe_images.xml");
  n = xml_all(x, "imagesSet/item", it, 8);
  ASSERT_TRUE(n >= 3);
  ASSERT_STR_EQ(xml_text(it[0], "imageId"), "ami-57ba933a");
  ASSERT_STR_EQ(xml_text(it[0], "creationDate"), "2021-01-10T18:24:00.000Z");
  ASSERT_STR_EQ(xml_text(it[1], "creationDate"), "");
  xml_free(x);
  TEST_DONE();

  TEST_START("xml error answer");
  x = load("run_instances_idem_mismatch.xml");
  ASSERT_STR_EQ(xml_text(x, "Errors/Error/Code"),
                "IdempotentParameterMismatch");
  ASSERT_TRUE(!strncmp(xml_text(x, "Errors/Error/Message"), "Arguments on",
                       12));
  xml_free(x);
  TEST_DONE();

  bad("<a><b></a>", "malformed XML: mismatched tag at line 1");
  bad("", "malformed XML");
  bad("<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
      "a DOCTYPE is not accepted");
  for (n = 0; n <= XML_DEPTH_MAX; n++) strcat(deep, "<a>");
  bad(deep, "nested too deeply");
}
UNIT_REGISTER(test_xml)
