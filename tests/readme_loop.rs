//! The application loop the README shows is the one `examples/embedding.rs`
//! compiles and runs: the quote and the file's `README loop` block are equal.

#[test]
fn the_readme_quotes_the_compiled_loop() {
    let root = env!("CARGO_MANIFEST_DIR");
    let example = std::fs::read_to_string(format!("{root}/examples/embedding.rs")).unwrap();
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let begin = example
        .find("// README loop: begin\n")
        .expect("the begin marker");
    let end = example.find("// README loop: end").expect("the end marker");
    let code = &example[begin + "// README loop: begin\n".len()..end];
    let quote = format!("```rust\n{code}```");
    assert!(
        readme.contains(&quote),
        "README.md no longer quotes examples/embedding.rs's loop; paste this block:\n{quote}"
    );
}
