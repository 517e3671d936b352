//! The outcome word in letters five rows tall, so nobody misreads it across a counter.

/// Five rows per glyph; each glyph is five columns wide.
fn glyph(c: char) -> [&'static str; 5] {
    match c {
        'A' => [" ### ", "#   #", "#####", "#   #", "#   #"],
        'C' => [" ####", "#    ", "#    ", "#    ", " ####"],
        'D' => ["#### ", "#   #", "#   #", "#   #", "#### "],
        'E' => ["#####", "#    ", "#### ", "#    ", "#####"],
        'I' => ["#####", "  #  ", "  #  ", "  #  ", "#####"],
        'K' => ["#   #", "#  # ", "###  ", "#  # ", "#   #"],
        'L' => ["#    ", "#    ", "#    ", "#    ", "#####"],
        'N' => ["#   #", "##  #", "# # #", "#  ##", "#   #"],
        'O' => [" ### ", "#   #", "#   #", "#   #", " ### "],
        'P' => ["#### ", "#   #", "#### ", "#    ", "#    "],
        'R' => ["#### ", "#   #", "#### ", "#  # ", "#   #"],
        'U' => ["#   #", "#   #", "#   #", "#   #", " ### "],
        'V' => ["#   #", "#   #", "#   #", " # # ", "  #  "],
        'W' => ["#   #", "#   #", "# # #", "## ##", "#   #"],
        _ => ["     ", "     ", "     ", "     ", "     "],
    }
}

/// The word as five lines of block characters, one column between letters.
pub(crate) fn render(word: &str) -> Vec<String> {
    (0..5)
        .map(|row| {
            word.chars()
                .map(|c| glyph(c.to_ascii_uppercase())[row].replace('#', "█"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Columns the rendered word takes.
pub(crate) fn width(word: &str) -> usize {
    let n = word.chars().count();
    n * 5 + n.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_words_fit_an_80_column_screen() {
        for word in ["APPROVED", "DECLINED", "UNKNOWN"] {
            let lines = render(word);
            assert_eq!(lines.len(), 5);
            assert!(width(word) <= 76, "{word}");
            assert!(lines.iter().all(|l| l.chars().count() == width(word)));
            assert!(
                word.chars().all(|c| glyph(c) != glyph(' ')),
                "{word} has a missing glyph"
            );
        }
    }
}
