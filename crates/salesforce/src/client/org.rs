//! Org-level resources: versions, describe, limits, userinfo, and replication windows.

use chrono::{DateTime, Utc};

use super::http::Call;
use super::{Client, Error};
use crate::time::format_datetime_z;
use crate::wire::{
    ApiVersion, DeletedResult, DescribeGlobal, Limits, Resources, SObjectDescribe, UpdatedResult,
    UserInfo,
};

impl Client {
    /// The API versions the org serves (`GET /services/data/`).
    pub async fn versions(&self) -> Result<Vec<ApiVersion>, Error> {
        self.call_json(Call::get("/services/data/".into())).await
    }

    /// The resources of the configured version (`GET /services/data/vNN.N/`).
    pub async fn resources(&self) -> Result<Resources, Error> {
        self.call_json(Call::get(self.data_path(&[""]))).await
    }

    /// Every object the user can see, with its flags.
    pub async fn describe_global(&self) -> Result<DescribeGlobal, Error> {
        self.call_json(Call::get(self.data_path(&["sobjects", ""]))).await
    }

    /// One object's fields and child relationships.
    pub async fn describe(&self, object: &str) -> Result<SObjectDescribe, Error> {
        self.call_json(Call::get(self.data_path(&["sobjects", object, "describe"]))).await
    }

    /// The org's limits (`DailyApiRequests`, ...).
    pub async fn limits(&self) -> Result<Limits, Error> {
        self.call_json(Call::get(self.data_path(&["limits"]))).await
    }

    /// The logged-in user and org.
    pub async fn userinfo(&self) -> Result<UserInfo, Error> {
        self.call_json(Call::get("/services/oauth2/userinfo".into())).await
    }

    /// Ids of `object` records changed in `[start, end]` (seconds are dropped by the
    /// server), and the point up to which changes are known to be committed.
    pub async fn updated(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<UpdatedResult, Error> {
        let call = Call::get(self.data_path(&["sobjects", object, "updated", ""]))
            .query("start", format_datetime_z(start))
            .query("end", format_datetime_z(end));
        self.call_json(call).await
    }

    /// `object` records deleted in `[start, end]`, with the earliest date still available.
    pub async fn deleted(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<DeletedResult, Error> {
        let call = Call::get(self.data_path(&["sobjects", object, "deleted", ""]))
            .query("start", format_datetime_z(start))
            .query("end", format_datetime_z(end));
        self.call_json(call).await
    }
}
