tests/unit/main.o: tests/unit/main.c tests/unit/unit.h lib/mvm.h \
 lib/ssh.h lib/tarz.h lib/kvm.h lib/userdata.h
tests/unit/unit.h:
lib/mvm.h:
lib/ssh.h:
lib/tarz.h:
lib/kvm.h:
lib/userdata.h:
