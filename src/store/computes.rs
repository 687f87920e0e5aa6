//! The cached computes: written by the sync tasks, read by every page.
//!
//! The SQLite table is the durable cache. `ComputeStore` also keeps the list columns of every
//! row in memory, updated after each committed write: list pages are served from it without a
//! database round trip (see BENCHMARKS.md for why), and the sync tasks are its only writers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use sqlx::SqlitePool;

/// One compute as the cache keeps it: the columns the list needs, and Azure's whole resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeRecord {
    pub name: String,
    pub arm_id: String,
    pub kind: String,
    pub compute_type: String,
    pub state: String,
    pub provisioning_state: Option<String>,
    pub vm_size: Option<String>,
    pub owner_object_id: Option<String>,
    pub owner_tenant_id: Option<String>,
    pub owner_name: Option<String>,
    pub created_by_name: Option<String>,
    pub created_on: Option<String>,
    pub location: Option<String>,
    /// Azure's message when the compute failed (provisioning or instance errors).
    pub problem: Option<String>,
    pub resource_json: String,
}

/// The columns one row of the list shows.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ComputeRow {
    pub name: String,
    pub kind: String,
    pub compute_type: String,
    pub state: String,
    pub vm_size: Option<String>,
    pub owner_object_id: Option<String>,
    pub owner_name: Option<String>,
    pub created_on: Option<String>,
    pub location: Option<String>,
    pub problem: Option<String>,
}

pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Insert or update one compute read from Azure just now. Returns whether the row changed.
async fn upsert(db: &SqlitePool, record: &ComputeRecord, synced_at: &str) -> sqlx::Result<bool> {
    let mut conn = db.acquire().await?;
    upsert_on(&mut conn, record, synced_at, synced_at).await
}

/// Writes the record unless the cached row is identical or was written at or after
/// `written_before` (a newer read than the one this record comes from).
async fn upsert_on(
    conn: &mut sqlx::SqliteConnection,
    record: &ComputeRecord,
    synced_at: &str,
    written_before: &str,
) -> sqlx::Result<bool> {
    let key = name_key(&record.name);
    let changed = sqlx::query!(
        r#"INSERT INTO computes (name_key, name, arm_id, kind, compute_type, state, provisioning_state,
               vm_size, owner_object_id, owner_tenant_id, owner_name, created_by_name, created_on,
               location, problem, resource_json, last_synced_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name_key) DO UPDATE SET
               name = excluded.name, arm_id = excluded.arm_id, kind = excluded.kind,
               compute_type = excluded.compute_type, state = excluded.state,
               provisioning_state = excluded.provisioning_state, vm_size = excluded.vm_size,
               owner_object_id = excluded.owner_object_id, owner_tenant_id = excluded.owner_tenant_id,
               owner_name = excluded.owner_name, created_by_name = excluded.created_by_name,
               created_on = excluded.created_on, location = excluded.location,
               problem = excluded.problem, resource_json = excluded.resource_json, last_synced_at = excluded.last_synced_at
           WHERE computes.resource_json IS NOT excluded.resource_json
             AND computes.last_synced_at < ?"#,
        key,
        record.name,
        record.arm_id,
        record.kind,
        record.compute_type,
        record.state,
        record.provisioning_state,
        record.vm_size,
        record.owner_object_id,
        record.owner_tenant_id,
        record.owner_name,
        record.created_by_name,
        record.created_on,
        record.location,
        record.problem,
        record.resource_json,
        synced_at,
        written_before,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// What a full resync changed in the cache.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// Make the cache equal to a complete listing from Azure, in one transaction.
///
/// Rows written after the listing began (`listing_started_at`) come from a newer read (an
/// action or a poll) and are neither overwritten nor removed.
async fn replace_all(
    db: &SqlitePool,
    records: &[ComputeRecord],
    listing_started_at: &str,
    synced_at: &str,
) -> sqlx::Result<Replaced> {
    let mut tx = db.begin().await?;
    let mut replaced = Replaced::default();
    for record in records {
        if upsert_on(&mut tx, record, synced_at, listing_started_at).await? {
            replaced.changed.push(record.name.clone());
        }
    }
    let listed: Vec<String> = records.iter().map(|r| name_key(&r.name)).collect();
    let listed = serde_json::to_string(&listed).unwrap_or_else(|_| "[]".into());
    replaced.removed = sqlx::query_scalar!(
        r#"DELETE FROM computes
           WHERE last_synced_at < ? AND name_key NOT IN (SELECT value FROM json_each(?))
           RETURNING name"#,
        listing_started_at,
        listed
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(replaced)
}

async fn remove(db: &SqlitePool, name: &str) -> sqlx::Result<()> {
    let key = name_key(name);
    sqlx::query!("DELETE FROM computes WHERE name_key = ?", key)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn get_row(db: &SqlitePool, name: &str) -> sqlx::Result<Option<ComputeRow>> {
    let key = name_key(name);
    sqlx::query_as!(
        ComputeRow,
        r#"SELECT name, kind, compute_type, state, vm_size, owner_object_id, owner_name, created_on, location, problem
           FROM computes WHERE name_key = ?"#,
        key
    )
    .fetch_optional(db)
    .await
}

/// Azure's whole resource as last read, for pages that show more than the list's columns.
pub async fn resource(db: &SqlitePool, name: &str) -> sqlx::Result<Option<serde_json::Value>> {
    let key = name_key(name);
    let json = sqlx::query_scalar!("SELECT resource_json FROM computes WHERE name_key = ?", key)
        .fetch_optional(db)
        .await?;
    // The cache only ever holds what serde wrote; an unreadable row reads as empty.
    Ok(json.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)))
}

pub async fn count(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT COUNT(*) AS "count!: i64" FROM computes"#)
        .fetch_one(db)
        .await
}

/// The values with a non-zero count, in value order.
fn counted(interner: &Interner, counts: &[usize]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(i, n)| Some((interner.values[i].clone()?, *n)))
        .collect();
    out.sort();
    out
}

/// Owners with a count, by name, each with the name their rows carry.
fn owner_choices(
    view: &ListView,
    of_kind: &[Entry],
    counts: &[usize],
) -> Vec<(Option<String>, String, usize)> {
    let mut names: Vec<Option<&str>> = vec![None; counts.len()];
    for entry in of_kind {
        let slot = &mut names[entry.owner as usize];
        if slot.is_none() {
            *slot = entry.row.owner_name.as_deref();
        }
    }
    let mut out: Vec<_> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| {
            (
                view.owners.values[i].clone(),
                names[i].unwrap_or_default().to_string(),
                *n,
            )
        })
        .collect();
    out.sort_by(|a, b| {
        a.1.to_lowercase()
            .cmp(&b.1.to_lowercase())
            .then(a.0.cmp(&b.0))
    });
    out
}

async fn load_rows(db: &SqlitePool) -> sqlx::Result<Vec<ComputeRow>> {
    sqlx::query_as!(
        ComputeRow,
        r#"SELECT name, kind, compute_type, state, vm_size, owner_object_id, owner_name, created_on, location, problem
           FROM computes"#
    )
    .fetch_all(db)
    .await
}

impl ComputeRow {
    fn from_record(record: &ComputeRecord) -> Self {
        ComputeRow {
            name: record.name.clone(),
            kind: record.kind.clone(),
            compute_type: record.compute_type.clone(),
            state: record.state.clone(),
            vm_size: record.vm_size.clone(),
            owner_object_id: record.owner_object_id.clone(),
            owner_name: record.owner_name.clone(),
            created_on: record.created_on.clone(),
            location: record.location.clone(),
            problem: record.problem.clone(),
        }
    }
}

/// The list columns of every cached compute, in name order, also grouped by kind so that a
/// tab's page and count cost nothing like a scan of the workspace. Owners, states and sizes are
/// interned as small numbers, so that filtering and counting the filter choices of a tab of
/// 10,000 computes compares integers instead of hashing strings.
#[derive(Default)]
struct ListView {
    rows: BTreeMap<String, Arc<ComputeRow>>,
    by_kind: HashMap<String, KindIndex>,
    owners: Interner,
    states: Interner,
    sizes: Interner,
    /// Bumped by every change, so that remembered query results know when they are stale.
    generation: u64,
}

/// The computes of one kind: ordered for updates, and as one contiguous array in name order
/// (rebuilt on the first read after a change) because scanning 10,000 entries of a tree costs
/// more than building the array once.
#[derive(Default)]
struct KindIndex {
    entries: BTreeMap<String, Entry>,
    in_order: std::sync::Mutex<Option<Arc<Vec<Entry>>>>,
}

impl KindIndex {
    fn in_order(&self) -> Arc<Vec<Entry>> {
        let mut cached = self.in_order.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .get_or_insert_with(|| Arc::new(ranked(self.entries.values().cloned().collect())))
            .clone()
    }

    fn changed(&mut self) {
        *self.in_order.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Each entry's place in every sort order, computed once per change so that a request sorts
/// by comparing integers.
fn ranked(mut entries: Vec<Entry>) -> Vec<Entry> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    for key in SortKey::RANKED {
        // Stable: equal values stay in name order, the entries' own order.
        order.sort_by(|a, b| compare_rows(&entries[*a].row, &entries[*b].row, key));
        for (rank, index) in order.iter().enumerate() {
            entries[*index].ranks[key.rank_slot()] = rank as u32;
        }
        order.sort_unstable();
    }
    entries
}

fn compare_rows(a: &ComputeRow, b: &ComputeRow, key: SortKey) -> std::cmp::Ordering {
    match key {
        SortKey::Name => std::cmp::Ordering::Equal,
        SortKey::State => a.state.cmp(&b.state),
        SortKey::VmSize => a.vm_size.cmp(&b.vm_size),
        SortKey::Owner => a.owner_name.cmp(&b.owner_name),
        SortKey::Created => a.created_on.cmp(&b.created_on),
        SortKey::Region => a.location.cmp(&b.location),
    }
}

/// A row with its interned facet values and sort ranks.
#[derive(Clone)]
struct Entry {
    key: Arc<str>,
    row: Arc<ComputeRow>,
    ranks: [u32; 5],
    owner: u32,
    state: u32,
    size: u32,
}

/// Distinct values and their numbers; values are never forgotten (there are few of them).
#[derive(Default)]
struct Interner {
    values: Vec<Option<String>>,
    numbers: HashMap<Option<String>, u32>,
}

impl Interner {
    fn intern(&mut self, value: Option<&str>) -> u32 {
        if let Some(n) = self.numbers.get(&value.map(str::to_string)) {
            return *n;
        }
        let n = self.values.len() as u32;
        self.values.push(value.map(str::to_string));
        self.numbers.insert(value.map(str::to_string), n);
        n
    }

    /// The number of a value, if it was ever seen.
    fn find(&self, value: Option<&str>) -> Option<u32> {
        self.numbers.get(&value.map(str::to_string)).copied()
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

impl ListView {
    fn insert(&mut self, row: ComputeRow) {
        let key = name_key(&row.name);
        self.remove(&key);
        let entry = Entry {
            key: Arc::from(key.as_str()),
            ranks: [0; 5],
            owner: self.owners.intern(row.owner_object_id.as_deref()),
            state: self.states.intern(Some(&row.state)),
            size: self.sizes.intern(row.vm_size.as_deref()),
            row: Arc::new(row),
        };
        self.rows.insert(key.clone(), entry.row.clone());
        let index = self.by_kind.entry(entry.row.kind.clone()).or_default();
        index.entries.insert(key, entry);
        index.changed();
        self.generation += 1;
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.rows.remove(key)
            && let Some(index) = self.by_kind.get_mut(&old.kind)
        {
            index.entries.remove(key);
            index.changed();
            self.generation += 1;
        }
    }
}

/// Which rows of one kind a list page shows, and in what order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListQuery {
    pub kind: String,
    /// Only computes of this owner (object id).
    pub owner: Option<String>,
    pub state: Option<String>,
    pub vm_size: Option<String>,
    /// Case-insensitive part of the name.
    pub search: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortKey {
    #[default]
    Name,
    State,
    VmSize,
    Owner,
    Created,
    Region,
}

impl SortKey {
    /// The keys other than the name (which is the index's own order).
    const RANKED: [SortKey; 5] = [
        SortKey::State,
        SortKey::VmSize,
        SortKey::Owner,
        SortKey::Created,
        SortKey::Region,
    ];

    fn rank_slot(self) -> usize {
        match self {
            SortKey::Name | SortKey::State => 0,
            SortKey::VmSize => 1,
            SortKey::Owner => 2,
            SortKey::Created => 3,
            SortKey::Region => 4,
        }
    }
}

/// One page of matching rows, how many match, and the choices the filters offer (counted
/// within the kind, each ignoring its own filter so that every choice shows what it would give).
#[derive(Debug, Clone, Default)]
pub struct ListResult {
    pub rows: Vec<Arc<ComputeRow>>,
    pub total: usize,
    pub owners: Vec<(Option<String>, String, usize)>,
    pub states: Vec<(String, usize)>,
    pub vm_sizes: Vec<(String, usize)>,
}

/// The cache of computes: the SQLite table and its in-memory list view, kept in step.
pub struct ComputeStore {
    db: SqlitePool,
    view: RwLock<ListView>,
    /// Results of recent queries with the generation they were computed at: the list is read
    /// far more often than it changes, and many people look at the same views.
    remembered: std::sync::Mutex<HashMap<ListQuery, (u64, Arc<ListResult>)>>,
}

/// How many distinct query results are remembered before the memory starts afresh.
const REMEMBERED_QUERIES: usize = 256;

impl ComputeStore {
    /// Loads the list view from the database.
    pub async fn load(db: SqlitePool) -> sqlx::Result<Self> {
        let mut view = ListView::default();
        for row in load_rows(&db).await? {
            view.insert(row);
        }
        Ok(Self {
            db,
            view: RwLock::new(view),
            remembered: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn db(&self) -> &SqlitePool {
        &self.db
    }

    /// Writes one compute read from Azure just now; returns whether it changed.
    pub async fn upsert(&self, record: &ComputeRecord, synced_at: &str) -> sqlx::Result<bool> {
        let changed = upsert(&self.db, record, synced_at).await?;
        if changed {
            self.write_view(|view| view.insert(ComputeRow::from_record(record)));
        }
        Ok(changed)
    }

    /// Makes the cache equal to a complete listing (see [`replace_all`]).
    pub async fn replace_all(
        &self,
        records: &[ComputeRecord],
        listing_started_at: &str,
        synced_at: &str,
    ) -> sqlx::Result<Replaced> {
        let replaced = replace_all(&self.db, records, listing_started_at, synced_at).await?;
        let by_key: HashMap<String, &ComputeRecord> =
            records.iter().map(|r| (name_key(&r.name), r)).collect();
        self.write_view(|view| {
            for name in &replaced.changed {
                let key = name_key(name);
                if let Some(record) = by_key.get(&key) {
                    view.insert(ComputeRow::from_record(record));
                }
            }
            for name in &replaced.removed {
                view.remove(&name_key(name));
            }
        });
        Ok(replaced)
    }

    pub async fn remove(&self, name: &str) -> sqlx::Result<()> {
        remove(&self.db, name).await?;
        self.write_view(|view| view.remove(&name_key(name)));
        Ok(())
    }

    /// The rows of one kind that pass the filters, sorted and paged, with the filter choices.
    pub fn query(&self, query: &ListQuery) -> Arc<ListResult> {
        self.read_view(|view| {
            if let Some((generation, result)) = self.remembered().get(query)
                && *generation == view.generation
            {
                return result.clone();
            }
            let result = Arc::new(Self::compute_query(view, query));
            let mut memory = self.remembered();
            if memory.len() >= REMEMBERED_QUERIES {
                memory.clear();
            }
            memory.insert(query.clone(), (view.generation, result.clone()));
            result
        })
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<ListQuery, (u64, Arc<ListResult>)>> {
        self.remembered.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn compute_query(view: &ListView, query: &ListQuery) -> ListResult {
        {
            let Some(index) = view.by_kind.get(&query.kind) else {
                return ListResult::default();
            };
            let of_kind = index.in_order();
            // A filter value never seen matches nothing; `u32::MAX` is no value's number.
            let wanted = |interner: &Interner, value: &Option<String>| {
                value
                    .as_deref()
                    .map(|v| interner.find(Some(v)).unwrap_or(u32::MAX))
            };
            let owner = wanted(&view.owners, &query.owner);
            let state = wanted(&view.states, &query.state);
            let size = wanted(&view.sizes, &query.vm_size);
            let search = query.search.as_deref().map(str::to_ascii_lowercase);
            let mut owner_counts = vec![0usize; view.owners.len()];
            let mut state_counts = vec![0usize; view.states.len()];
            let mut size_counts = vec![0usize; view.sizes.len()];
            let mut matching = Vec::new();
            for entry in of_kind.iter() {
                let owner_ok = owner.is_none_or(|o| entry.owner == o);
                let state_ok = state.is_none_or(|s| entry.state == s);
                let size_ok = size.is_none_or(|v| entry.size == v);
                // A row failing two filters counts for no choice: skip the costlier name test.
                if u8::from(owner_ok) + u8::from(state_ok) + u8::from(size_ok) < 2 {
                    continue;
                }
                if search.as_deref().is_some_and(|s| !entry.key.contains(s)) {
                    continue;
                }
                // Each choice counts what it would give with the other filters kept.
                if state_ok && size_ok {
                    owner_counts[entry.owner as usize] += 1;
                }
                if owner_ok && size_ok {
                    state_counts[entry.state as usize] += 1;
                }
                if owner_ok && state_ok {
                    size_counts[entry.size as usize] += 1;
                    if size_ok {
                        matching.push(entry);
                    }
                }
            }
            let total = matching.len();
            if query.sort != SortKey::Name {
                let slot = query.sort.rank_slot();
                matching.sort_unstable_by_key(|entry| entry.ranks[slot]);
            }
            if query.descending {
                matching.reverse();
            }
            let rows = matching
                .into_iter()
                .skip(query.offset)
                .take(query.limit)
                .map(|entry| entry.row.clone())
                .collect();
            ListResult {
                rows,
                total,
                owners: owner_choices(view, &of_kind, &owner_counts),
                states: counted(&view.states, &state_counts),
                vm_sizes: counted(&view.sizes, &size_counts),
            }
        }
    }

    pub fn row(&self, name: &str) -> Option<Arc<ComputeRow>> {
        self.read_view(|view| view.rows.get(&name_key(name)).cloned())
    }

    /// How many computes each kind has.
    pub fn count_by_kind(&self) -> HashMap<String, usize> {
        self.read_view(|view| {
            view.by_kind
                .iter()
                .map(|(kind, index)| (kind.clone(), index.entries.len()))
                .collect()
        })
    }

    /// Names of the computes whose state is one of `states`.
    pub fn names_in_states(&self, states: &[&str]) -> Vec<String> {
        self.read_view(|view| {
            view.rows
                .values()
                .filter(|row| states.contains(&row.state.as_str()))
                .map(|row| row.name.clone())
                .collect()
        })
    }

    /// A number that changes with every change to the list: a page drawn at one generation
    /// knows it missed something when the cache has moved on.
    pub fn generation(&self) -> u64 {
        self.read_view(|view| view.generation)
    }

    pub fn len(&self) -> usize {
        self.read_view(|view| view.rows.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read_view<T>(&self, read: impl FnOnce(&ListView) -> T) -> T {
        // A writer that panicked leaves a view that is still a valid map: keep serving it.
        let view = self
            .view
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        read(&view)
    }

    fn write_view(&self, write: impl FnOnce(&mut ListView)) {
        let mut view = self
            .view
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        write(&mut view);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, kind: &str, state: &str) -> ComputeRecord {
        ComputeRecord {
            name: name.into(),
            arm_id: format!("/computes/{name}"),
            kind: kind.into(),
            compute_type: "ComputeInstance".into(),
            state: state.into(),
            provisioning_state: Some("Succeeded".into()),
            vm_size: None,
            owner_object_id: None,
            owner_tenant_id: None,
            owner_name: None,
            created_by_name: None,
            created_on: None,
            location: None,
            problem: None,
            resource_json: format!("{{\"name\":\"{name}\",\"state\":\"{state}\"}}"),
        }
    }

    #[sqlx::test]
    async fn the_list_view_follows_every_write(db: SqlitePool) {
        let store = ComputeStore::load(db.clone()).await.unwrap();
        let t1 = crate::store::now();
        store
            .replace_all(
                &[
                    record("b-box", "instance", "Running"),
                    record("a-box", "instance", "Stopped"),
                    record("c-cluster", "cluster", "Steady"),
                ],
                &t1,
                &t1,
            )
            .await
            .unwrap();
        let instances = ListQuery {
            kind: "instance".into(),
            limit: 10,
            ..ListQuery::default()
        };
        let listed = store.query(&instances);
        assert_eq!(listed.total, 2);
        assert_eq!(
            listed
                .rows
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["a-box", "b-box"]
        );
        assert_eq!(store.count_by_kind()["cluster"], 1);

        let stopped = ListQuery {
            kind: "instance".into(),
            state: Some("Stopping".into()),
            limit: 10,
            ..ListQuery::default()
        };
        assert_eq!(store.query(&stopped).total, 0);
        let t2 = crate::store::now();
        assert!(
            store
                .upsert(&record("b-box", "instance", "Stopping"), &t2)
                .await
                .unwrap()
        );
        assert!(
            !store
                .upsert(&record("b-box", "instance", "Stopping"), &t2)
                .await
                .unwrap(),
            "unchanged"
        );
        assert_eq!(
            store.row("B-BOX").unwrap().state,
            "Stopping",
            "names are case-insensitive"
        );
        assert_eq!(store.names_in_states(&["Stopping"]), ["b-box"]);
        assert_eq!(
            store.query(&stopped).total,
            1,
            "a remembered result is not served after a change"
        );

        store.remove("a-box").await.unwrap();
        assert_eq!(store.query(&instances).total, 1);

        // A fresh load from the database sees exactly what the view shows.
        let reloaded = ComputeStore::load(db).await.unwrap();
        assert_eq!(reloaded.len(), store.len());
        assert_eq!(reloaded.row("b-box"), store.row("b-box"));
    }
}
