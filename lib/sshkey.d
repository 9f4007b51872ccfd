lib/sshkey.o: lib/sshkey.c lib/mvm.h lib/ssh.h lib/tarz.h lib/kvm.h \
 lib/userdata.h
lib/mvm.h:
lib/ssh.h:
lib/tarz.h:
lib/kvm.h:
lib/userdata.h:
