lib/sshchan.o: lib/sshchan.c lib/mvm.h lib/ssh.h lib/tarz.h lib/kvm.h \
 lib/userdata.h
lib/mvm.h:
lib/ssh.h:
lib/tarz.h:
lib/kvm.h:
lib/userdata.h:
