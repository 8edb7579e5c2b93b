//! Embeds every shipped rule file (`rules/**/*.toml`) into the binary, so `netlint` works
//! from any directory. The list is generated, so adding a rule needs no Rust change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let mut files = Vec::new();
    collect(Path::new("rules"), &mut files);
    files.sort();
    let mut out = String::from(
        "/// Shipped rule files: (path relative to the repository, text).\npub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let abs = std::fs::canonicalize(file).expect("a file just listed by read_dir exists");
        let rel = file.to_string_lossy().replace('\\', "/");
        writeln!(out, "    ({rel:?}, include_str!({:?})),", abs.to_string_lossy())
            .expect("writing to a String cannot fail");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
}
