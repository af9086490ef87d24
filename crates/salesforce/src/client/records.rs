//! Record writes and reads: single records, sObject Collections, and Composite.

use reqwest::Method;
use serde_json::Value;

use super::http::Call;
use super::{Client, Error, MAX_COLLECTION_RECORDS, MAX_COMPOSITE_SUBREQUESTS, MAX_RETRIEVE_IDS};
use crate::wire::{
    CollectionRequest, CompositeRequest, CompositeResponse, Record, RetrieveManyRequest,
    SaveResult, attributes,
};

impl Client {
    /// Reads one record, with only `fields` when it is not empty.
    pub async fn retrieve(&self, object: &str, id: &str, fields: &[&str]) -> Result<Record, Error> {
        let mut call = Call::get(self.data_path(&["sobjects", object, id]));
        if !fields.is_empty() {
            call = call.query("fields", fields.join(","));
        }
        self.call_json(call).await
    }

    /// Creates one record; the result's `id` is the new record's id.
    pub async fn create(&self, object: &str, body: &Record) -> Result<SaveResult, Error> {
        let call = Call::new(Method::POST, self.data_path(&["sobjects", object]));
        self.call_json(call.json(Value::Object(without_attributes(body)))).await
    }

    /// Updates the fields in `body` on one record.
    pub async fn update(&self, object: &str, id: &str, body: &Record) -> Result<(), Error> {
        let call = Call::new(Method::PATCH, self.data_path(&["sobjects", object, id]));
        self.call(call.json(Value::Object(without_attributes(body)))).await.map(drop)
    }

    /// Deletes one record.
    pub async fn delete(&self, object: &str, id: &str) -> Result<(), Error> {
        self.call(Call::new(Method::DELETE, self.data_path(&["sobjects", object, id])))
            .await
            .map(drop)
    }

    /// Creates or updates the record whose `ext_field` equals `value`. The result says
    /// which through `created`. Several matches fail with `MULTIPLE_CHOICES` (HTTP 300).
    pub async fn upsert(
        &self,
        object: &str,
        ext_field: &str,
        value: &str,
        body: &Record,
    ) -> Result<SaveResult, Error> {
        let path = self.data_path(&["sobjects", object, ext_field, value]);
        let call = Call::new(Method::PATCH, path).json(Value::Object(without_attributes(body)));
        let what = call.describe();
        let answer = self.call(call).await?;
        let created = answer.status == 201;

        // Older API versions answer an update with 204 and no body.
        if answer.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(SaveResult {
                id: None,
                success: true,
                errors: vec![],
                created: Some(created),
            });
        }
        let mut result: SaveResult = super::decode::decode_json(
            &what,
            answer.status,
            answer.content_type.as_deref(),
            &answer.body,
        )?;
        result.created = Some(result.created.unwrap_or(created));
        Ok(result)
    }

    /// Creates up to 200 records of `object` in one call; results in request order.
    pub async fn create_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        let body = collection_body(object, records, all_or_none)?;
        let call = Call::new(Method::POST, self.data_path(&["composite", "sobjects"]));
        self.call_json(call.json(body)).await
    }

    /// Updates up to 200 records of `object` (each carrying `Id`); results in request order.
    pub async fn update_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        let body = collection_body(object, records, all_or_none)?;
        let call = Call::new(Method::PATCH, self.data_path(&["composite", "sobjects"]));
        self.call_json(call.json(body)).await
    }

    /// Upserts up to 200 records of `object` by `ext_field`; results in request order,
    /// each with `created`.
    pub async fn upsert_many(
        &self,
        object: &str,
        ext_field: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        let body = collection_body(object, records, all_or_none)?;
        let path = self.data_path(&["composite", "sobjects", object, ext_field]);
        self.call_json(Call::new(Method::PATCH, path).json(body)).await
    }

    /// Deletes up to 200 records by id; results in request order.
    pub async fn delete_many<S: AsRef<str>>(
        &self,
        ids: &[S],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        if ids.len() > MAX_COLLECTION_RECORDS {
            return Err(Error::TooMany { max: MAX_COLLECTION_RECORDS });
        }
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        let call = Call::new(Method::DELETE, self.data_path(&["composite", "sobjects"]))
            .query("ids", ids.join(","))
            .query("allOrNone", all_or_none.to_string());
        self.call_json(call).await
    }

    /// Reads up to 2000 records of `object` by id with the given fields; `None` where an
    /// id matched no record. Results in request order.
    pub async fn retrieve_many<S: AsRef<str>>(
        &self,
        object: &str,
        ids: &[S],
        fields: &[&str],
    ) -> Result<Vec<Option<Record>>, Error> {
        if ids.len() > MAX_RETRIEVE_IDS {
            return Err(Error::TooMany { max: MAX_RETRIEVE_IDS });
        }
        let body = RetrieveManyRequest {
            ids: ids.iter().map(|id| id.as_ref().to_owned()).collect(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        };
        let body = serde_json::to_value(body).map_err(encode_error)?;
        let call = Call::new(Method::POST, self.data_path(&["composite", "sobjects", object]));
        self.call_json(call.json(body)).await
    }

    /// Runs up to 25 dependent subrequests in one call.
    pub async fn composite(&self, request: &CompositeRequest) -> Result<CompositeResponse, Error> {
        if request.composite_request.len() > MAX_COMPOSITE_SUBREQUESTS {
            return Err(Error::TooMany { max: MAX_COMPOSITE_SUBREQUESTS });
        }
        let body = serde_json::to_value(request).map_err(encode_error)?;
        let call = Call::new(Method::POST, self.data_path(&["composite"]));
        self.call_json(call.json(body)).await
    }
}

/// A collection body; each record gets `attributes.type` = `object` unless it has one.
fn collection_body(object: &str, records: &[Record], all_or_none: bool) -> Result<Value, Error> {
    if records.len() > MAX_COLLECTION_RECORDS {
        return Err(Error::TooMany { max: MAX_COLLECTION_RECORDS });
    }
    let records = records
        .iter()
        .map(|record| {
            let mut out = Record::new();
            let typed = record.get("attributes").cloned().filter(|a| a.get("type").is_some());
            out.insert("attributes".into(), typed.unwrap_or_else(|| attributes(object, None)));
            for (name, value) in record {
                if name != "attributes" {
                    out.insert(name.clone(), value.clone());
                }
            }
            out
        })
        .collect();
    serde_json::to_value(CollectionRequest { all_or_none, records }).map_err(encode_error)
}

/// A single-record body: the fields without `attributes`, which the REST endpoints for
/// one record do not take.
fn without_attributes(record: &Record) -> Record {
    record.iter().filter(|(k, _)| *k != "attributes").map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Encoding a request body into JSON fails only for maps with non-string keys, which
/// these bodies never hold; the error still says what happened rather than panicking.
fn encode_error(e: serde_json::Error) -> Error {
    Error::Decode {
        what: "request body".into(),
        detail: format!("cannot encode request: {e}"),
        status: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn collection_bodies_carry_types() {
        let records = vec![
            record(json!({"Name": "a"})),
            record(json!({"attributes": {"type": "Account", "url": "/x"}, "Name": "b"})),
        ];
        let body = collection_body("Account", &records, true).unwrap();
        assert_eq!(body["allOrNone"], true);
        assert_eq!(body["records"][0], json!({"attributes": {"type": "Account"}, "Name": "a"}));
        assert_eq!(body["records"][1]["attributes"]["url"], "/x");
        let too_many = vec![Record::new(); 201];
        assert!(matches!(
            collection_body("Account", &too_many, false),
            Err(Error::TooMany { max: 200 })
        ));
    }

    #[test]
    fn single_bodies_drop_attributes() {
        let body =
            without_attributes(&record(json!({"attributes": {"type": "Account"}, "Name": "a"})));
        assert_eq!(Value::Object(body), json!({"Name": "a"}));
    }
}
