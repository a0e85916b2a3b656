// The page in web/dist is compiled into the binary (src/startup/page.rs): rebuild when it changes,
// including when a file is added or removed.
fn main() {
    println!("cargo:rerun-if-changed=web/dist");
}
