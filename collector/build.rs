//! Stamps the git commit into `--version` (see `build-support/git_commit.rs`).

#[path = "../build-support/git_commit.rs"]
mod git_commit;

fn main() {
    git_commit::stamp();
}
