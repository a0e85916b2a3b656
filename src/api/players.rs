//! Players as the API takes them: JSON bodies (at creation and import) and CSV imports, checked
//! against the same bounds, each error naming the index (JSON) or the line (CSV) it is about.

use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiRequest, Object};

use crate::auction::Player;

/// The most characters of a player's name.
pub const MAX_NAME_CHARS: usize = 200;
/// The most characters of a position (after trimming).
pub const MAX_POSITION_CHARS: usize = 10;
/// The most characters of a team/bye field (after trimming).
pub const MAX_TEAM_BYE_CHARS: usize = 40;

/// A player of the pool.
#[derive(Object, Clone)]
pub struct PlayerBody {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    /// 1 is the best.
    #[oai(validator(minimum(value = "1")))]
    pub rank: u32,
    /// Free-form, 1 to 10 characters after trimming (`QB`, `WR/TE`); empty or omitted: none.
    pub position: Option<String>,
    /// Free-form, 1 to 40 characters after trimming: the player's team and bye week
    /// (`KC (10)`); empty or omitted: none.
    pub team_bye: Option<String>,
}

/// Players to add to the pool: JSON `[{name, rank, position?, team_bye?}]`, or CSV with a
/// header naming at least `name` and `rank` (and optionally `position` or `pos`, `team_bye` or
/// `team`; other columns are ignored).
#[derive(ApiRequest)]
pub enum PlayersImport {
    Json(Json<Vec<PlayerBody>>),
    #[oai(content_type = "text/csv")]
    Csv(PlainText<String>),
}

impl PlayersImport {
    /// The players, or what is wrong with them (naming the index or the line).
    pub fn players(self) -> Result<Vec<Player>, String> {
        match self {
            Self::Json(Json(players)) => from_json(players),
            Self::Csv(PlainText(text)) => from_csv(&text),
        }
    }
}

/// A free-form field trimmed; empty is absent; over `max` characters is refused.
fn optional_field(value: Option<&str>, field: &str, max: usize) -> Result<Option<String>, String> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(format!("{field} has at most {max} characters"));
    }
    Ok(Some(value.to_owned()))
}

/// One player from its fields, as both formats give them.
fn player(
    name: &str,
    rank: u32,
    position: Option<&str>,
    team_bye: Option<&str>,
) -> Result<Player, String> {
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a name has 1 to {MAX_NAME_CHARS} characters"));
    }
    if rank == 0 {
        return Err("rank is a whole number from 1".into());
    }
    Ok(Player {
        name: name.to_owned(),
        rank,
        position: optional_field(position, "position", MAX_POSITION_CHARS)?,
        team_bye: optional_field(team_bye, "team_bye", MAX_TEAM_BYE_CHARS)?,
    })
}

/// Players of a JSON body (at creation or import); an error names the index.
pub fn from_json(players: Vec<PlayerBody>) -> Result<Vec<Player>, String> {
    players
        .iter()
        .enumerate()
        .map(|(i, p)| {
            player(
                &p.name,
                p.rank,
                p.position.as_deref(),
                p.team_bye.as_deref(),
            )
            .map_err(|e| format!("players[{i}]: {e}"))
        })
        .collect()
}

/// The CSV columns a header names (case-insensitive): `name` and `rank` required.
struct Columns {
    name: usize,
    rank: usize,
    position: Option<usize>,
    team_bye: Option<usize>,
}

impl Columns {
    fn of(headers: &csv::StringRecord) -> Result<Self, String> {
        let find = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let required = |name: &str| {
            find(&[name]).ok_or_else(|| format!("the CSV header has no `{name}` column"))
        };
        Ok(Self {
            name: required("name")?,
            rank: required("rank")?,
            position: find(&["position", "pos"]),
            team_bye: find(&["team_bye", "team"]),
        })
    }
}

/// Parses a CSV with a header (`name`, `rank`, optionally `position`/`pos` and
/// `team_bye`/`team`) into players; an error names the line.
pub fn from_csv(text: &str) -> Result<Vec<Player>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns = Columns::of(reader.headers().map_err(|e| e.to_string())?)?;
    let mut players = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let field = |at: Option<usize>| at.and_then(|at| record.get(at));
        let rank = field(Some(columns.rank))
            .unwrap_or_default()
            .parse::<u32>()
            .map_err(|_| format!("line {line}: rank is a whole number from 1"))?;
        let name = field(Some(columns.name)).unwrap_or_default();
        let p = player(name, rank, field(columns.position), field(columns.team_bye))
            .map_err(|e| format!("line {line}: {e}"))?;
        players.push(p);
    }
    Ok(players)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_are_found_by_any_of_their_names_in_any_case() {
        let players =
            from_csv("Rank,NAME,Pos,Team,notes\n1,Allen,QB,BUF (7),x\n2,Kelce,,,\n").unwrap();
        assert_eq!(players[0].position.as_deref(), Some("QB"));
        assert_eq!(players[0].team_bye.as_deref(), Some("BUF (7)"));
        assert_eq!(players[1], Player::new("Kelce", 2), "empty is absent");
    }

    #[test]
    fn bounds_count_characters_after_trimming() {
        assert!(optional_field(Some("  ÉÉÉÉÉÉÉÉÉÉ  "), "position", 10).is_ok());
        let err = optional_field(Some("ÉÉÉÉÉÉÉÉÉÉÉ"), "position", 10).unwrap_err();
        assert_eq!(err, "position has at most 10 characters");
        assert_eq!(optional_field(Some("   "), "position", 10), Ok(None));
    }
}
