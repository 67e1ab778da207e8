//! `egresswatch-fixtures [--check] [DIR]`: writes the test fixtures into DIR (default
//! `fixtures`), or with `--check` exits 1 listing every fixture whose file differs from what
//! the generator makes. All the work is in `egresswatch::testgen`.

fn main() {
    std::process::exit(egresswatch::testgen::run(std::env::args().skip(1)));
}
