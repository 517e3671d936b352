//! The themes a cashier can pick on the Settings screen.

use till::tui::theme::Theme;

#[test]
fn the_themes_to_pick_from_are_the_built_in_ones_and_the_users() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("night.toml"), "").unwrap();
    std::fs::write(dir.path().join("mono.toml"), "").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "").unwrap();
    let names = Theme::available(Some(dir.path()));
    assert_eq!(names, ["default", "high-contrast", "mono", "night"]);
    assert_eq!(Theme::available(None), ["default", "high-contrast", "mono"]);
}
