//! The newtype rule (design §2, style example 7): no public signature in `src/`
//! uses a bare `u64`. Node ids, ticks, indexes and terms have their own types;
//! the few places where a `u64` is meant are listed in [`ALLOWED`], with a reason.
//!
//! "Public" is read syntactically: an item declared `pub` (not `pub(crate)` or
//! narrower), wherever it sits, except inside `#[cfg(test)]` items and modules.
//! Checked: `pub fn` and `pub` methods (parameters, return type, generics),
//! methods, consts and types of `pub trait`s, trait impls for `pub` types (the
//! impl header and its items), `pub` struct fields (named and tuple), variant
//! fields of `pub` enums, `pub type` aliases, `pub const` and `pub static`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// The only places a public signature may use a bare `u64`, as `file:item`.
#[rustfmt::skip]
const ALLOWED: &[(&str, &str)] = &[
    ("src/types.rs:NodeId.0",                          "the newtype's own representation"),
    ("src/types.rs:Tick.0",                            "the newtype's own representation"),
    ("src/log/entry.rs:Index.0",                       "the newtype's own representation"),
    ("src/log/entry.rs:Term.0",                        "the newtype's own representation"),
    ("src/read_only.rs:ReadSeq.0",                     "the newtype's own representation"),
    ("src/config.rs:Config.seed",                      "a random seed, not a Raft quantity"),
    ("src/context/inherent.rs:election_timeout(seed)", "Config::seed, passed on"),
    ("src/probe.rs:hits -> return",                    "a count of code-probe hits, not a Raft quantity"),
];

#[test]
fn no_bare_u64_in_public_signatures() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = source_files(&src);
    assert!(
        files.len() > 10,
        "found only {} files under {}",
        files.len(),
        src.display()
    );
    let found = check(&files);
    let allowed: BTreeSet<&str> = ALLOWED.iter().map(|&(item, _)| item).collect();
    let violations: Vec<&String> = found
        .iter()
        .filter(|v| !allowed.contains(v.as_str()))
        .collect();
    let unused: Vec<&&str> = allowed
        .iter()
        .filter(|a| !found.iter().any(|f| f == **a))
        .collect();
    let mut report = String::new();
    for v in &violations {
        report += &format!("\n  bare u64 in a public signature: {v}");
    }
    for a in &unused {
        report += &format!("\n  allowlist entry matches nothing (remove it): {a}");
    }
    assert!(report.is_empty(), "newtype rule violated:{report}");
}

#[test]
fn the_checker_reports_what_it_should_and_nothing_else() {
    let source = r#"
        pub fn f(x: u64) {}
        pub struct S { pub a: Option<u64> }
        fn private(x: u64) -> u64 { x }
        pub(crate) fn crate_only(x: u64) {}
        pub struct Hidden { b: u64 }
        #[cfg(test)]
        mod tests { pub fn helper(x: u64) {} }
    "#;
    let found = check(&[("inline.rs".to_string(), source.to_string())]);
    assert_eq!(found, ["inline.rs:S.a", "inline.rs:f(x)"]);
}

#[test]
fn the_checker_sees_u64_in_every_position() {
    let source = r#"
        pub struct T(pub (u8, u64), u64);
        pub enum E { A(Vec<u64>), B { b: &'static [u64] }, C }
        pub type Alias = std::collections::BTreeMap<String, u64>;
        pub const C: u64 = 1;
        pub static S: [u64; 2] = [0, 0];
        pub fn g<I: IntoIterator<Item = u64>>(i: I, f: impl Fn(u8) -> u64)
            -> Option<(u8, u64)> { None }
        pub trait Tr { fn m(&self) -> u64; }
        impl T { pub fn get(&self) -> &u64 { &self.1 } fn hidden(&self) -> u64 { 0 } }
        impl From<u64> for T { fn from(x: u64) -> T { T((0, x), x) } }
        struct Private;
        impl From<u64> for Private { fn from(_: u64) -> Private { Private } }
    "#;
    let found: BTreeSet<String> = check(&[("p.rs".to_string(), source.to_string())])
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = [
        "T.0",
        "E::A.0",
        "E::B.b",
        "type Alias",
        "const C",
        "static S",
        "g<generics>",
        "g(f)",
        "g -> return",
        "Tr::m -> return",
        "T::get -> return",
        "impl From for T",
        "T::from(x)",
    ]
    .iter()
    .map(|item| format!("p.rs:{item}"))
    .collect();
    assert_eq!(found, expected);
}

/// Every `.rs` file under `dir`, as (`src/...` label, contents), in path order,
/// leaving out files that are `#[cfg(test)] mod name;` of another file.
fn source_files(dir: &Path) -> Vec<(String, String)> {
    let mut paths = Vec::new();
    collect_rs(dir, &mut paths);
    paths.sort();
    let mut test_modules = BTreeSet::new();
    let mut files = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("read a source file");
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for item in &ast.items {
            if let syn::Item::Mod(m) = item {
                if m.content.is_none() && is_cfg_test(&m.attrs) {
                    let dir = child_module_dir(path);
                    let name = m.ident.to_string();
                    test_modules.insert(dir.join(format!("{name}.rs")));
                    test_modules.insert(dir.join(name).join("mod.rs"));
                }
            }
        }
        files.push((path.clone(), text));
    }
    let root = dir.parent().expect("src has a parent");
    files
        .into_iter()
        .filter(|(path, _)| !test_modules.contains(path))
        .map(|(path, text)| {
            let label = path.strip_prefix(root).expect("under the crate root");
            (label.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where `mod name;` declared in `file` lives: beside `lib.rs`/`mod.rs`/`main.rs`,
/// in the directory named after the file otherwise (`context.rs` -> `context/`).
fn child_module_dir(file: &Path) -> PathBuf {
    let parent = file.parent().expect("a file has a parent");
    let stem = file
        .file_stem()
        .expect("a file has a name")
        .to_string_lossy();
    match stem.as_ref() {
        "lib" | "mod" | "main" => parent.to_path_buf(),
        _ => parent.join(stem.as_ref()),
    }
}

/// The checker: every public use of a bare `u64` in `files` (label, source), as
/// `label:item`, sorted.
fn check(files: &[(String, String)]) -> Vec<String> {
    let asts: Vec<(&String, syn::File)> = files
        .iter()
        .map(|(label, text)| {
            (
                label,
                syn::parse_file(text).unwrap_or_else(|e| panic!("{label}: {e}")),
            )
        })
        .collect();
    let mut public_types = BTreeSet::new();
    for (_, ast) in &asts {
        collect_public_types(&ast.items, &mut public_types);
    }
    let mut found = Vec::new();
    for (label, ast) in &asts {
        let mut items = Items {
            public_types: &public_types,
            found: Vec::new(),
        };
        items.check(&ast.items);
        found.extend(
            items
                .found
                .into_iter()
                .map(|item| format!("{label}:{item}")),
        );
    }
    found.sort();
    found
}

fn collect_public_types(items: &[syn::Item], out: &mut BTreeSet<String>) {
    for item in items {
        let (vis, ident) = match item {
            syn::Item::Struct(s) => (&s.vis, &s.ident),
            syn::Item::Enum(e) => (&e.vis, &e.ident),
            syn::Item::Type(t) => (&t.vis, &t.ident),
            syn::Item::Union(u) => (&u.vis, &u.ident),
            syn::Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if let Some((_, inner)) = &m.content {
                    collect_public_types(inner, out);
                }
                continue;
            }
            _ => continue,
        };
        if is_pub(vis) && !is_cfg_test(item_attrs(item)) {
            out.insert(ident.to_string());
        }
    }
}

struct Items<'a> {
    public_types: &'a BTreeSet<String>,
    found: Vec<String>,
}

impl Items<'_> {
    fn check(&mut self, items: &[syn::Item]) {
        for item in items {
            if !is_cfg_test(item_attrs(item)) {
                self.item(item);
            }
        }
    }

    fn item(&mut self, item: &syn::Item) {
        match item {
            syn::Item::Fn(f) if is_pub(&f.vis) => self.signature("", &f.sig),
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                for (i, field) in s.fields.iter().enumerate() {
                    if is_pub(&field.vis) {
                        self.ty(format!("{}.{}", s.ident, field_name(field, i)), &field.ty);
                    }
                }
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                for variant in &e.variants {
                    for (i, field) in variant.fields.iter().enumerate() {
                        let name =
                            format!("{}::{}.{}", e.ident, variant.ident, field_name(field, i));
                        self.ty(name, &field.ty);
                    }
                }
            }
            syn::Item::Type(t) if is_pub(&t.vis) => self.ty(format!("type {}", t.ident), &t.ty),
            syn::Item::Const(c) if is_pub(&c.vis) => self.ty(format!("const {}", c.ident), &c.ty),
            syn::Item::Static(s) if is_pub(&s.vis) => self.ty(format!("static {}", s.ident), &s.ty),
            syn::Item::Trait(t) if is_pub(&t.vis) => {
                let owner = format!("{}::", t.ident);
                for inner in &t.items {
                    match inner {
                        syn::TraitItem::Fn(f) => self.signature(&owner, &f.sig),
                        syn::TraitItem::Const(c) => self.ty(format!("{owner}{}", c.ident), &c.ty),
                        syn::TraitItem::Type(ty) => {
                            let name = format!("{owner}{}", ty.ident);
                            self.report_if(name, |u| u.visit_trait_item_type(ty));
                        }
                        _ => {}
                    }
                }
            }
            syn::Item::Impl(i) => self.impl_block(i),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    self.check(inner);
                }
            }
            _ => {}
        }
    }

    /// Inherent impls: their `pub` items. Trait impls for a public type: the
    /// header and every item (a trait impl is as public as its type).
    fn impl_block(&mut self, i: &syn::ItemImpl) {
        let self_name = type_name(&i.self_ty);
        let trait_impl = i.trait_.is_some();
        if trait_impl {
            if !self.public_types.contains(&self_name) {
                return;
            }
            let (_, path, _) = i.trait_.as_ref().expect("a trait impl");
            let header = format!("impl {} for {self_name}", path_name(path));
            self.report_if(header, |u| {
                u.visit_generics(&i.generics);
                u.visit_path(path);
            });
        }
        let owner = format!("{self_name}::");
        for inner in &i.items {
            let (vis, attrs) = match inner {
                syn::ImplItem::Fn(f) => (&f.vis, &f.attrs),
                syn::ImplItem::Const(c) => (&c.vis, &c.attrs),
                syn::ImplItem::Type(t) => (&t.vis, &t.attrs),
                _ => continue,
            };
            if !(trait_impl || is_pub(vis)) || is_cfg_test(attrs) {
                continue;
            }
            match inner {
                syn::ImplItem::Fn(f) => self.signature(&owner, &f.sig),
                syn::ImplItem::Const(c) => self.ty(format!("{owner}{}", c.ident), &c.ty),
                syn::ImplItem::Type(t) => self.ty(format!("{owner}{}", t.ident), &t.ty),
                _ => {}
            }
        }
    }

    /// A function's generics, each parameter (named) and its return type.
    fn signature(&mut self, owner: &str, sig: &syn::Signature) {
        let name = format!("{owner}{}", sig.ident);
        self.report_if(format!("{name}<generics>"), |u| {
            u.visit_generics(&sig.generics)
        });
        for (position, input) in sig.inputs.iter().enumerate() {
            match input {
                syn::FnArg::Receiver(r) => self.ty(format!("{name}(self)"), &r.ty),
                syn::FnArg::Typed(p) => {
                    self.ty(format!("{name}({})", param_name(&p.pat, position)), &p.ty)
                }
            }
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            self.ty(format!("{name} -> return"), ty);
        }
    }

    fn ty(&mut self, name: String, ty: &syn::Type) {
        self.report_if(name, |u| u.visit_type(ty));
    }

    fn report_if(&mut self, name: String, visit: impl FnOnce(&mut U64Finder)) {
        let mut finder = U64Finder(false);
        visit(&mut finder);
        if finder.0 {
            self.found.push(name);
        }
    }
}

/// Sets its flag on any type path naming `u64` (`u64`, `std::primitive::u64`, ...),
/// wherever it sits: generic arguments, tuples, references, slices, `impl Fn`.
struct U64Finder(bool);

impl<'ast> Visit<'ast> for U64Finder {
    fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
        if tp
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "u64" && s.arguments.is_none())
        {
            self.0 = true;
        }
        syn::visit::visit_type_path(self, tp);
    }
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string().trim() == "test")
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn field_name(field: &syn::Field, position: usize) -> String {
    field
        .ident
        .as_ref()
        .map_or_else(|| position.to_string(), ToString::to_string)
}

/// The name of an impl's self type (`Node<S>` -> `Node`).
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map_or_else(String::new, |s| s.ident.to_string()),
        _ => "<type>".to_string(),
    }
}

/// A parameter's name: its identifier, or its position for a pattern.
fn param_name(pat: &syn::Pat, position: usize) -> String {
    match pat {
        syn::Pat::Ident(p) => p.ident.to_string(),
        _ => format!("#{position}"),
    }
}

/// A path by its segment names, without generic arguments (`std::convert::From`).
fn path_name(path: &syn::Path) -> String {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    names.join("::")
}
