//! The rootfs the launch tests share.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use crate::spec::ROOTFS_DIR;

pub(super) fn write_exec(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A rootfs with static busybox at /bin/busybox, /bin/{sh,cat} → busybox, /usr/bin →
/// /bin (absolute link), a script at /home/app/run.sh and a dangling-outside link.
pub(super) fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(ROOTFS_DIR);
    let busybox = std::fs::read("/bin/busybox").expect("Debian's busybox-static");
    write_exec(&root.join("bin/busybox"), &busybox);
    symlink("busybox", root.join("bin/sh")).unwrap();
    symlink("/bin/busybox", root.join("bin/cat")).unwrap();
    std::fs::create_dir_all(root.join("usr")).unwrap();
    symlink("/bin", root.join("usr/bin")).unwrap();
    write_exec(
        &root.join("home/app/run.sh"),
        b"#!/bin/sh -e\necho \"run:$0:$*\"\n",
    );
    symlink("../../../../../etc", root.join("home/app/escape")).unwrap();
    std::fs::create_dir_all(root.join("etc/ld.so.conf.d")).unwrap();
    std::fs::write(root.join("etc/ld.so.conf"), "include ld.so.conf.d/*.conf\n").unwrap();
    std::fs::write(
        root.join("etc/ld.so.conf.d/x.conf"),
        "# comment\n/opt/lib\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("opt/lib")).unwrap();
    std::fs::create_dir_all(root.join("lib")).unwrap();
    dir
}
