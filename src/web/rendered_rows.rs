//! The list's rows as HTML, remembered between requests.
//!
//! A row's HTML depends only on the cached compute, on how the viewer stands to it (role, and
//! whether they own it: buttons, bulk box, application links) and on the display names known.
//! A list page shows 50 rows and the live stream pushes each changed row to every open page, so
//! the same row used to be rendered over and over: remembering it makes a page mostly copying
//! (BENCHMARKS.md, issue 3 and 5 figures).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::domain::roles::{Ownership, Role};
use crate::store::computes::ComputeRow;

use super::auth::CurrentUser;

/// What of the viewer a row's HTML depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    role: Role,
    owns_it: bool,
}

impl Viewer {
    pub fn of(current: &CurrentUser, row: &ComputeRow) -> Viewer {
        Viewer {
            role: current.role,
            owns_it: current.ownership_of(row) == Ownership::Owner,
        }
    }
}

/// The HTML of one version of one compute, for the viewers it was rendered for.
struct Rendered {
    /// The version rendered. Held, so that its address cannot be reused by a newer version
    /// while this entry compares against it.
    row: Arc<ComputeRow>,
    /// The display names' version it was rendered with.
    people: u64,
    for_viewers: Vec<ForViewer>,
}

/// One version of a row as one kind of viewer sees it.
struct ForViewer {
    viewer: Viewer,
    html: Arc<str>,
    /// The live stream's event of this HTML, once a stream has needed it.
    event: Option<Bytes>,
}

impl Rendered {
    fn is_of(&self, row: &Arc<ComputeRow>, people: u64) -> bool {
        Arc::ptr_eq(&self.row, row) && self.people == people
    }

    fn for_viewer(&mut self, viewer: Viewer) -> Option<&mut ForViewer> {
        self.for_viewers.iter_mut().find(|v| v.viewer == viewer)
    }
}

/// Rendered rows by compute name; an entry is dropped as soon as its compute has changed.
#[derive(Default)]
pub struct RenderedRows {
    by_name: Mutex<HashMap<String, Rendered>>,
}

impl RenderedRows {
    /// Beyond this many computes the memory is emptied and refills with what is looked at:
    /// about 1.5 KB a row and viewer, so a few megabytes at most.
    const CAPACITY: usize = 2_000;

    /// The row's HTML for this viewer: remembered, or rendered now and remembered.
    pub fn get_or_render<E>(
        &self,
        row: &Arc<ComputeRow>,
        viewer: Viewer,
        people: u64,
        render: impl FnOnce() -> Result<String, E>,
    ) -> Result<Arc<str>, E> {
        if let Some(html) = self.remembered(row, viewer, people) {
            return Ok(html);
        }
        // Rendered outside the lock: other requests keep reading meanwhile.
        let html: Arc<str> = Arc::from(render()?);
        self.remember(row, viewer, people, html.clone());
        Ok(html)
    }

    /// The row's live-stream event for this viewer: remembered, or made from the row's HTML
    /// (itself remembered or rendered now) and remembered.
    pub fn event_or_encode<E>(
        &self,
        row: &Arc<ComputeRow>,
        viewer: Viewer,
        people: u64,
        render: impl FnOnce() -> Result<String, E>,
        encode: impl FnOnce(&str) -> Bytes,
    ) -> Result<Bytes, E> {
        if let Some(event) = self.with_remembered(row, viewer, people, |v| v.event.clone()) {
            return Ok(event);
        }
        let html = self.get_or_render(row, viewer, people, render)?;
        let event = encode(&html);
        self.with_remembered(row, viewer, people, |v| {
            v.event = Some(event.clone());
            Some(())
        });
        Ok(event)
    }

    fn remembered(&self, row: &Arc<ComputeRow>, viewer: Viewer, people: u64) -> Option<Arc<str>> {
        self.with_remembered(row, viewer, people, |v| Some(v.html.clone()))
    }

    /// Runs `f` on what is remembered of this version of the row for this viewer, if anything.
    fn with_remembered<T>(
        &self,
        row: &Arc<ComputeRow>,
        viewer: Viewer,
        people: u64,
        f: impl FnOnce(&mut ForViewer) -> Option<T>,
    ) -> Option<T> {
        let mut by_name = self.by_name.lock().unwrap_or_else(|p| p.into_inner());
        let rendered = by_name
            .get_mut(&row.name)
            .filter(|r| r.is_of(row, people))?;
        f(rendered.for_viewer(viewer)?)
    }

    fn remember(&self, row: &Arc<ComputeRow>, viewer: Viewer, people: u64, html: Arc<str>) {
        let mut by_name = self.by_name.lock().unwrap_or_else(|p| p.into_inner());
        if by_name.len() >= Self::CAPACITY && !by_name.contains_key(&row.name) {
            by_name.clear();
        }
        let rendered = by_name.entry(row.name.clone()).or_insert_with(|| Rendered {
            row: row.clone(),
            people,
            for_viewers: Vec::new(),
        });
        if !rendered.is_of(row, people) {
            // Another version replaces the remembered one. A request that read the cache just
            // before a change may put an older version back: a lookup compares the very version
            // it holds, so that only costs the next request a render, never shows stale HTML.
            *rendered = Rendered {
                row: row.clone(),
                people,
                for_viewers: Vec::new(),
            };
        }
        if rendered.for_viewer(viewer).is_none() {
            rendered.for_viewers.push(ForViewer {
                viewer,
                html,
                event: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn compute(name: &str, state: &str) -> Arc<ComputeRow> {
        Arc::new(ComputeRow {
            name: name.into(),
            kind: "ComputeInstance".into(),
            compute_type: "ComputeInstance".into(),
            state: state.into(),
            vm_size: None,
            owner_object_id: None,
            owner_name: None,
            created_on: None,
            location: None,
            problem: None,
        })
    }

    const MEMBER: Viewer = Viewer {
        role: Role::Member,
        owns_it: false,
    };
    const OWNER: Viewer = Viewer {
        role: Role::Member,
        owns_it: true,
    };

    /// Renders "<name> <state> #<n>", n counting the renders, so a remembered row shows.
    fn render_counting<'a>(
        renders: &'a Cell<u32>,
        row: &'a ComputeRow,
    ) -> impl FnOnce() -> Result<String, std::convert::Infallible> + 'a {
        move || {
            renders.set(renders.get() + 1);
            Ok(format!("{} {} #{}", row.name, row.state, renders.get()))
        }
    }

    fn html(
        rows: &RenderedRows,
        row: &Arc<ComputeRow>,
        viewer: Viewer,
        people: u64,
        renders: &Cell<u32>,
    ) -> String {
        rows.get_or_render(row, viewer, people, render_counting(renders, row))
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_row_is_rendered_once_per_version_and_viewer() {
        let rows = RenderedRows::default();
        let renders = Cell::new(0);
        let v1 = compute("ci-1", "Running");
        assert_eq!(html(&rows, &v1, MEMBER, 0, &renders), "ci-1 Running #1");
        assert_eq!(html(&rows, &v1, MEMBER, 0, &renders), "ci-1 Running #1");
        assert_eq!(html(&rows, &v1, OWNER, 0, &renders), "ci-1 Running #2");
        assert_eq!(html(&rows, &v1, MEMBER, 0, &renders), "ci-1 Running #1");
        assert_eq!(renders.get(), 2);
    }

    #[test]
    fn a_changed_row_or_changed_names_are_rendered_again() {
        let rows = RenderedRows::default();
        let renders = Cell::new(0);
        let v1 = compute("ci-1", "Running");
        html(&rows, &v1, MEMBER, 0, &renders);
        // Equal content, but another version of the row in the cache: rendered again.
        let v2 = compute("ci-1", "Stopping");
        assert_eq!(html(&rows, &v2, MEMBER, 0, &renders), "ci-1 Stopping #2");
        assert_eq!(html(&rows, &v2, MEMBER, 1, &renders), "ci-1 Stopping #3");
        // A request still holding the old version never gets the new one's HTML.
        assert_eq!(html(&rows, &v1, MEMBER, 1, &renders), "ci-1 Running #4");
        assert_eq!(html(&rows, &v2, MEMBER, 1, &renders), "ci-1 Stopping #5");
    }

    #[test]
    fn a_rows_event_is_encoded_once_per_version_and_viewer() {
        let rows = RenderedRows::default();
        let (renders, encodings) = (Cell::new(0), Cell::new(0));
        let event = |row: &Arc<ComputeRow>, viewer| {
            rows.event_or_encode(row, viewer, 0, render_counting(&renders, row), |html| {
                encodings.set(encodings.get() + 1);
                Bytes::from(format!("event: {html}"))
            })
            .unwrap()
        };
        let v1 = compute("ci-1", "Running");
        assert_eq!(&event(&v1, MEMBER)[..], b"event: ci-1 Running #1");
        assert_eq!(&event(&v1, MEMBER)[..], b"event: ci-1 Running #1");
        // The page and the stream share one rendering.
        assert_eq!(html(&rows, &v1, MEMBER, 0, &renders), "ci-1 Running #1");
        assert_eq!(&event(&v1, OWNER)[..], b"event: ci-1 Running #2");
        let v2 = compute("ci-1", "Stopping");
        assert_eq!(&event(&v2, MEMBER)[..], b"event: ci-1 Stopping #3");
        assert_eq!((renders.get(), encodings.get()), (3, 3));
    }

    #[test]
    fn memory_is_bounded() {
        let rows = RenderedRows::default();
        let renders = Cell::new(0);
        let all: Vec<_> = (0..=RenderedRows::CAPACITY)
            .map(|i| compute(&format!("ci-{i}"), "Running"))
            .collect();
        for row in &all {
            html(&rows, row, MEMBER, 0, &renders);
        }
        assert_eq!(rows.by_name.lock().unwrap().len(), 1);
        html(&rows, &all[0], MEMBER, 0, &renders);
        assert_eq!(renders.get() as usize, RenderedRows::CAPACITY + 2);
    }
}
