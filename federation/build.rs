//! Sets `FAAS_BUILD_SHA`, reported by `GET /system/info` (see the build-sha crate).

fn main() {
    build_sha::emit();
}
