applets/mvmbox.o: applets/mvmbox.c lib/mvm.h lib/ssh.h lib/tarz.h \
 lib/kvm.h lib/userdata.h applets/applets.h
lib/mvm.h:
lib/ssh.h:
lib/tarz.h:
lib/kvm.h:
lib/userdata.h:
applets/applets.h:
