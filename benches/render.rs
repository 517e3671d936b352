//! Time to render each screen at 80x24 and 200x60 on ratatui's TestBackend.
//! `cargo bench --bench render`

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use till::tui::model::{Model, ScreenId};
use till::tui::theme::Theme;
use till::tui::view::view;

fn screens(c: &mut Criterion) {
    let theme = Theme::default_theme();
    let mut model: Model = till::tui::fixtures::busy_model();
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        for screen in ScreenId::ALL {
            model.desk.screen = screen;
            c.bench_function(&format!("render {:?} {w}x{h}", screen), |b| {
                b.iter(|| {
                    // A full redraw each time: clear the previous buffer so nothing is diffed away.
                    terminal.clear().expect("clear");
                    terminal.draw(|f| view(f, &model, &theme)).expect("draw");
                })
            });
        }
    }
}

criterion_group!(benches, screens);
criterion_main!(benches);
