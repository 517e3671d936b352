//! Semantic themes: widgets ask for a role (`theme.approved`), never a colour. Built-in
//! themes are the TOML files in `themes/`, compiled in; a user theme of the same or a
//! new name in the config dir's `till/themes/` may set only some roles. A broken theme
//! is reported and replaced by the default, never fatal.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../../themes/default.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

pub(crate) fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

/// Declares the roles once: the struct fields and the lookup by name come from it.
macro_rules! roles {
    ($($role:ident),* $(,)?) => {
        #[derive(Clone, Debug, PartialEq)]
        pub struct Theme {
            pub(crate) name: String,
            /// Lines and blocks drawn in ASCII, for consoles without Unicode (vt100).
            pub(crate) ascii: bool,
            $(pub $role: Style,)*
        }

        impl Theme {
            #[cfg(test)]
            const ROLES: &'static [&'static str] = &[$(stringify!($role)),*];

            fn role_mut(&mut self, role: &str) -> Option<&mut Style> {
                match role {
                    $(stringify!($role) => Some(&mut self.$role),)*
                    _ => None,
                }
            }

            fn blank(name: &str) -> Theme {
                Theme { name: name.to_string(), ascii: false, $($role: Style::default(),)* }
            }
        }
    };
}

roles!(
    text, muted, title, border, key_hint, amount, input, focus, selected, approved, declined,
    unknown, warning, error, link_up, link_down, status_bar, demo, chart,
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    roles: BTreeMap<String, RoleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

impl Theme {
    /// The default theme; it is compiled in and tested, so it always parses.
    pub fn default_theme() -> Theme {
        let mut theme = Theme::blank("default");
        let _ = theme.apply(BUILTIN[0].1);
        theme
    }

    pub(crate) fn mono() -> Theme {
        let mut theme = Theme::blank("mono");
        let _ = theme.apply(BUILTIN[2].1);
        theme
    }

    /// A block with this theme's border lines: ASCII ones on a plain console.
    pub(crate) fn block(&self) -> ratatui::widgets::Block<'static> {
        let block = ratatui::widgets::Block::default();
        if self.ascii {
            block.border_set(ratatui::symbols::border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            })
        } else {
            block
        }
    }

    /// The themes there are to pick from: the built-in ones and the user's files.
    pub fn available(user_dir: Option<&Path>) -> Vec<String> {
        let mut names: Vec<String> = builtin_names().map(String::from).collect();
        let files = user_dir.and_then(|d| std::fs::read_dir(d).ok());
        for entry in files.into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_string());
            }
        }
        names
    }

    /// Loads a theme by name: a user file in `user_dir` (partial, over the default)
    /// or a built-in one. `NO_COLOR` forces the monochrome theme. Returns the theme and
    /// a warning to show when the requested one could not be used.
    pub(crate) fn load(
        name: &str,
        user_dir: Option<&Path>,
        no_color: bool,
    ) -> (Theme, Option<String>) {
        if no_color {
            return (Theme::mono(), None);
        }
        let user = user_dir.map(|d| d.join(format!("{name}.toml")));
        let text = match user.as_deref().map(std::fs::read_to_string) {
            Some(Ok(text)) => Some(text),
            Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
                return (
                    Theme::default_theme(),
                    Some(format!("theme '{name}': {e}; using the default theme")),
                );
            }
            _ => BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.to_string()),
        };
        let Some(text) = text else {
            return (
                Theme::default_theme(),
                Some(format!(
                    "no theme named '{name}' (built in: {}); using the default theme",
                    builtin_names().collect::<Vec<_>>().join(", ")
                )),
            );
        };
        let mut theme = Theme::default_theme();
        theme.name = name.to_string();
        match theme.apply(&text) {
            Ok(()) => (theme, None),
            Err(e) => (
                Theme::default_theme(),
                Some(format!(
                    "theme '{name}' is broken ({e}); using the default theme"
                )),
            ),
        }
    }

    /// Sets the roles a theme file names, leaving the others as they are.
    fn apply(&mut self, text: &str) -> Result<(), String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for (role, spec) in file.roles {
            let style = spec.style().map_err(|e| format!("role {role}: {e}"))?;
            let slot = self
                .role_mut(&role)
                .ok_or_else(|| format!("unknown role '{role}'"))?;
            *slot = style;
        }
        Ok(())
    }
}

impl RoleSpec {
    fn style(&self) -> Result<Style, String> {
        let colour = |c: &Option<String>| -> Result<Option<Color>, String> {
            c.as_deref()
                .map(|c| Color::from_str(c).map_err(|_| format!("'{c}' is not a colour")))
                .transpose()
        };
        let mut style = Style::default();
        if let Some(fg) = colour(&self.fg)? {
            style = style.fg(fg);
        }
        if let Some(bg) = colour(&self.bg)? {
            style = style.bg(bg);
        }
        for m in &self.modifiers {
            let modifier = match m.as_str() {
                "bold" => Modifier::BOLD,
                "dim" => Modifier::DIM,
                "italic" => Modifier::ITALIC,
                "underlined" => Modifier::UNDERLINED,
                "reversed" => Modifier::REVERSED,
                other => return Err(format!("'{other}' is not a modifier")),
            };
            style = style.add_modifier(modifier);
        }
        Ok(style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_parse_and_set_every_role() {
        for (name, text) in BUILTIN {
            let mut theme = Theme::blank(name);
            theme.apply(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let file: ThemeFile = toml::from_str(text).unwrap();
            for role in Theme::ROLES {
                assert!(file.roles.contains_key(*role), "{name} lacks {role}");
            }
        }
    }

    #[test]
    fn mono_has_no_colour() {
        let theme = Theme::mono();
        for role in Theme::ROLES {
            let mut t = theme.clone();
            let style = *t.role_mut(role).unwrap();
            assert_eq!((style.fg, style.bg), (None, None), "{role}");
        }
        assert_eq!(Theme::load("default", None, true).0.name, "mono");
    }

    #[test]
    fn partial_user_theme_fills_gaps_from_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("mine.toml"),
            "[roles]\napproved = { fg = \"#00ff00\" }\n",
        )
        .unwrap();
        let (theme, warning) = Theme::load("mine", Some(dir.path()), false);
        assert_eq!(warning, None);
        assert_eq!(theme.approved.fg, Some(Color::Rgb(0, 255, 0)));
        assert_eq!(theme.declined, Theme::default_theme().declined);
    }

    #[test]
    fn broken_or_missing_themes_fall_back_with_a_warning() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (file, body) in [
            ("bad1", "[roles]\napproved = { fg = \"not-a-colour\" }\n"),
            ("bad2", "[roles]\nshiny = { fg = \"red\" }\n"),
            ("bad3", "roles = ["),
            ("bad4", "[roles]\napproved = { modifiers = [\"blink\"] }\n"),
        ] {
            std::fs::write(dir.path().join(format!("{file}.toml")), body).unwrap();
            let (theme, warning) = Theme::load(file, Some(dir.path()), false);
            assert_eq!(theme, Theme::default_theme(), "{file}");
            assert!(warning.unwrap().contains("broken"), "{file}");
        }
        let (theme, warning) = Theme::load("nope", Some(dir.path()), false);
        assert_eq!(theme.name, "default");
        assert!(warning.unwrap().contains("no theme named"));
    }
}
