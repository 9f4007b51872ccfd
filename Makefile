# mvmbox - one multicall binary for the mvm deploy pipeline.
# make [all|test|test_APPLET|unit|check|bench|fuzz|image|test-vm|verify|install|clean]
# make ASAN=1 ...  builds with -fsanitize=address,undefined into the same tree.

PKGS    = libcurl libssh2 yaml-0.1 openssl zlib jansson expat
PREFIX ?= /usr/local
BINDIR  = $(PREFIX)/bin
MANDIR  = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/mvmbox
CC     ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -MMD -MP -Ilib \
          -Iproviders -Iapplets $(shell pkg-config --cflags $(PKGS))
# libcurl, libssh2 and OpenSSL are not linked: lib/lazy*.c load them at
# first use (issue 19: linked, they cost every applet's start ~20 ms and
# 7 MB, though only some applets call them). Tar streams are written by
# lib/sync/tarz.c itself: libarchive mapped 3 MB more (libxml2, ICU, libstdc++).
LAZY_PKGS = libcurl libssh2 openssl
LDLIBS += $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)))
ifeq ($(ASAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS  = $(wildcard lib/*.c lib/*/*.c providers/*.c)
APP_SRCS  = $(wildcard applets/*.c)
LIB_OBJS  = $(LIB_SRCS:.c=.o)
APP_OBJS  = $(APP_SRCS:.c=.o)
UNIT_SRCS = $(wildcard tests/unit/*.c)
UNIT_OBJS = $(UNIT_SRCS:.c=.o)
FUZZERS   = $(patsubst tests/fuzz/%.c,tests/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
# The static KVM probe mvm-kvmcheck sends to hosts (probe/kvmprobe.c): libc
# only, never sanitized (ASAN cannot be static), embedded by probe/embed.S.
PROBE_SRCS = probe/kvmprobe.c $(wildcard lib/kvm/*.c) lib/msg.c lib/xwrap.c
PROBE_CFLAGS = -Os -std=c11 -D_GNU_SOURCE -DMVM_STATIC_PROBE -Wall -Wextra \
               -Wshadow -Ilib

all: mvmbox

mvmbox: $(APP_OBJS) $(LIB_OBJS) probe/embed.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

probe/mvm-kvmprobe: $(PROBE_SRCS) $(wildcard lib/*.h lib/kvm/*.h)
	$(CC) $(PROBE_CFLAGS) -static -s -o $@ $(PROBE_SRCS)

probe/embed.o: probe/embed.S probe/mvm-kvmprobe
	$(CC) -c -o $@ probe/embed.S

# The unit binary links every applet and lib object except main().
# It links libarchive: unit tests read back tar streams with its reader.
tests/unit/unit: $(UNIT_OBJS) $(filter-out applets/mvmbox.o,$(APP_OBJS)) $(LIB_OBJS) probe/embed.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libarchive)

unit: tests/unit/unit


test: mvmbox unit
	@MVMBOX=$(CURDIR)/mvmbox UNIT=$(CURDIR)/tests/unit/unit sh tests/run.sh

TEST_NAMES = $(patsubst tests/%.test,%,$(wildcard tests/*.test))
$(addprefix test_,$(TEST_NAMES)): test_%: mvmbox unit
	@MVMBOX=$(CURDIR)/mvmbox UNIT=$(CURDIR)/tests/unit/unit sh tests/run.sh $*

test-vm: mvmbox
	@MVMBOX=$(CURDIR)/mvmbox MVM_TEST_VM=1 sh tests/run.sh vm

check: mvmbox
	sh tests/check.sh

bench: mvmbox
	sh tests/bench/run.sh

image:
	sh tests/hosts/mkrootfs.sh

# The README's main job: the whole pipeline on local hosts.
demo: mvmbox
	@sh tests/demo.sh

# The verification matrix of this machine (tests/verify.sh): the whole
# pipeline per provider, then mvm-report; VERIFY_PROVIDERS=nspawn default.
VERIFY_PROVIDERS ?= nspawn
verify: mvmbox
	@VERIFY_PROVIDERS="$(VERIFY_PROVIDERS)" sh tests/verify.sh

# libFuzzer harnesses: clang only; each links the lib objects built anew.
fuzz: $(FUZZERS)
tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -Iproviders -Iapplets \
	  -fsanitize=fuzzer,address,undefined -Wno-gnu-variable-sized-type-not-at-end \
	  $(shell pkg-config --cflags $(PKGS)) \
	  -o $@ $^ $(LDLIBS)

install: mvmbox
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 mvmbox $(DESTDIR)$(BINDIR)/mvmbox
	$(DESTDIR)$(BINDIR)/mvmbox --install -s $(DESTDIR)$(BINDIR)
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5
	install -d $(DESTDIR)$(DATADIR)/cloud-init
	install -m 0644 cloud-init/*.yaml $(DESTDIR)$(DATADIR)/cloud-init
	install -d $(DESTDIR)$(DATADIR)/templates
	install -m 0644 templates/*.toml templates/*.service $(DESTDIR)$(DATADIR)/templates
	install -m 0755 templates/*.sh $(DESTDIR)$(DATADIR)/templates

clean:
	rm -f mvmbox tests/unit/unit $(FUZZERS) probe/mvm-kvmprobe */*.o */*/*.o */*.d */*/*.d

.PHONY: all unit test test-vm check bench image demo verify fuzz install clean
-include $(wildcard */*.d */*/*.d)
