/* tests/unit/unit.h - a ~40-line harness after OpenSSH's test_helper.
 * TEST_START(name) ... ASSERT_*(...) ... TEST_DONE(). Each test file ends
 * with UNIT_REGISTER(test_<module>), so adding a file needs no other edit. */
#ifndef MVM_UNIT_H
#define MVM_UNIT_H
#include "mvm.h"
#include "json.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "ssh/ssh.h"
#include "kvm/kvm.h"
#include "sync/sync.h"
#include "deploy/deploy.h"

extern int unit_pass, unit_fail, unit_cur_failed;
extern const char *unit_cur;

#define TEST_START(n) do { unit_cur = (n); unit_cur_failed = 0; } while (0)
#define TEST_DONE() do { if (unit_cur_failed) unit_fail++; else { \
    unit_pass++; printf("PASS %s\n", unit_cur); } } while (0)
#define UNIT_FAIL(fmt, ...) do { unit_cur_failed = 1; \
    printf("FAIL %s (%s:%d): " fmt "\n", unit_cur, __FILE__, __LINE__, \
           __VA_ARGS__); } while (0)
#define ASSERT_INT_EQ(a, b) do { long long a_ = (a), b_ = (b); \
    if (a_ != b_) UNIT_FAIL("%s == %lld, want %lld", #a, a_, b_); } while (0)
#define ASSERT_TRUE(c) do { if (!(c)) UNIT_FAIL("%s is false", #c); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_)) UNIT_FAIL("%s == \"%s\", want \"%s\"", \
        #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_NULL(a) do { if ((a) != NULL) UNIT_FAIL("%s not NULL", #a); \
    } while (0)

/* tests/files/NAME, found next to the unit binary (malloc'd). */
char *unit_file(const char *name);

void unit_register(const char *name, void (*fn)(void));
#define UNIT_REGISTER(fn) static void fn(void); \
  __attribute__((constructor)) static void reg_##fn(void) \
  { unit_register(#fn, fn); }

#endif
