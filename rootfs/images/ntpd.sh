# ntpd: chrony, servers from ros.ntp.servers, needing only CAP_SYS_TIME.
PKGS=(chrony)
