//! describeGlobal (`/sobjects`), the basic object resource (`/sobjects/{Object}`) and
//! describe (`/sobjects/{Object}/describe`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use soql::schema::FieldType as T;

use crate::error::ApiError;
use crate::http::{AppState, Session, api_version};
use crate::org::Org;
use crate::schema::{FieldDef, ObjectDef};

fn object_urls(obj: &ObjectDef, v: &str) -> Value {
    let base = format!("/services/data/v{v}/sobjects/{}", obj.name);
    json!({
        "compactLayouts": format!("{base}/describe/compactLayouts"),
        "rowTemplate": format!("{base}/{{ID}}"),
        "approvalLayouts": format!("{base}/describe/approvalLayouts"),
        "defaultValues": format!("{base}/defaultValues?recordTypeId&fields"),
        "describe": format!("{base}/describe"),
        "quickActions": format!("{base}/quickActions"),
        "layouts": format!("{base}/describe/layouts"),
        "sobject": base,
    })
}

/// The object-level properties describeGlobal and describe share.
fn object_summary(obj: &ObjectDef, v: &str) -> serde_json::Map<String, Value> {
    let updateable = obj.fields.iter().any(|f| f.updateable);
    let value = json!({
        "activateable": false,
        "associateEntityType": null,
        "associateParentEntity": null,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": false,
        "deepCloneable": false,
        "deletable": obj.createable,
        "deprecatedAndHidden": false,
        "feedEnabled": false,
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": true,
        "mergeable": false,
        "mruEnabled": true,
        "name": obj.name,
        "queryable": true,
        "replicateable": true,
        "retrieveable": true,
        "searchable": true,
        "triggerable": true,
        "undeletable": obj.createable,
        "updateable": updateable,
        "urls": object_urls(obj, v),
    });
    match value {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn soap_type(t: T) -> &'static str {
    match t {
        T::Id | T::Reference => "tns:ID",
        T::Boolean => "xsd:boolean",
        T::Int => "xsd:int",
        T::Double | T::Currency | T::Percent => "xsd:double",
        T::Date => "xsd:date",
        T::DateTime => "xsd:dateTime",
        _ => "xsd:string",
    }
}

fn field_json(f: &FieldDef) -> Value {
    let text = f.is_text();
    let long_text = f.field_type == T::TextArea && f.length > 255;
    let multi = f.field_type == T::MultiPicklist;
    let numeric = matches!(f.field_type, T::Double | T::Currency | T::Percent);
    // A lookup with several targets reads its parent through the `Name` object.
    let polymorphic = f.reference_to.len() > 1;
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .map(|p| {
            json!({
                "active": true,
                "defaultValue": f.default_value.as_ref().and_then(Value::as_str) == Some(p.as_str()),
                "label": p,
                "validFor": null,
                "value": p,
            })
        })
        .collect();
    json!({
        "aggregatable": !long_text && !multi,
        "aiPredictionField": false,
        "autoNumber": f.name_field && !f.createable && !f.calculated,
        "byteLength": if text { f.length * 3 } else { 0 },
        "calculated": f.calculated,
        "calculatedFormula": null,
        "cascadeDelete": f.cascade_delete,
        "caseSensitive": false,
        "compoundFieldName": null,
        "controllerName": null,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value.clone().filter(|_| f.field_type != T::Picklist),
        "defaultValueFormula": null,
        "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": if f.field_type == T::Int { 9 } else { 0 },
        "displayLocationInDecimal": false,
        "encrypted": false,
        "externalId": f.external_id,
        "extraTypeInfo": match f.field_type {
            T::TextArea if f.length > 255 => json!("plaintextarea"),
            T::Reference if f.name.ends_with("ById") || f.name == "OwnerId" => json!(null),
            _ => json!(null),
        },
        "filterable": !long_text,
        "filteredLookupInfo": null,
        "groupable": !long_text && !multi && !numeric && f.field_type != T::DateTime,
        "highScaleNumber": false,
        "htmlFormatted": false,
        "idLookup": f.name == "Id" || f.external_id || (f.name == "Username"),
        "inlineHelpText": null,
        "label": f.label,
        "length": if text { f.length } else { 0 },
        "mask": null,
        "maskType": null,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": polymorphic,
        "nillable": f.nillable,
        "permissionable": f.nillable && f.createable && f.custom,
        "picklistValues": picklist,
        "polymorphicForeignKey": polymorphic,
        "precision": if numeric { f.precision } else { 0 },
        "queryByDistance": false,
        "referenceTargetField": null,
        "referenceTo": f.reference_to,
        "relationshipName": f.relationship_name,
        "relationshipOrder": null,
        "restrictedDelete": false,
        "restrictedPicklist": f.restricted_picklist,
        "scale": if numeric { f.scale } else { 0 },
        "searchPrefilterable": false,
        "soapType": soap_type(f.field_type),
        "sortable": !long_text && !multi,
        "type": f.field_type.describe_name(),
        "unique": f.unique,
        "updateable": f.updateable,
        "writeRequiresMasterRead": false,
    })
}

/// Full describe of one object.
pub fn describe_object(org: &Org, obj: &ObjectDef, v: &str) -> Value {
    let mut out = object_summary(obj, v);
    let children: Vec<Value> = org
        .schema
        .children(&obj.name)
        .iter()
        .map(|c| {
            json!({
                "cascadeDelete": c.cascade_delete,
                "childSObject": c.child_object,
                "deprecatedAndHidden": false,
                "field": c.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": c.relationship_name,
                "restrictedDelete": false,
            })
        })
        .collect();
    out.insert("actionOverrides".into(), json!([]));
    out.insert("childRelationships".into(), Value::Array(children));
    out.insert("compactLayoutable".into(), json!(true));
    out.insert("fields".into(), Value::Array(obj.fields.iter().map(field_json).collect()));
    out.insert("listviewable".into(), json!(null));
    out.insert("lookupLayoutable".into(), json!(null));
    out.insert("namedLayoutInfos".into(), json!([]));
    out.insert("networkScopeFieldName".into(), json!(null));
    out.insert(
        "recordTypeInfos".into(),
        json!([{
            "active": true, "available": true, "defaultRecordTypeMapping": true,
            "developerName": "Master", "master": true, "name": "Master",
            "recordTypeId": "012000000000000AAA",
            "urls": {"layout": format!("/services/data/v{v}/sobjects/{}/describe/layouts/012000000000000AAA", obj.name)}
        }]),
    );
    out.insert("searchLayoutable".into(), json!(true));
    out.insert("sobjectDescribeOption".into(), json!("FULL"));
    out.insert("supportedScopes".into(), json!([{"label": "All", "name": "everything"}]));
    Value::Object(out)
}

fn version(p: &HashMap<String, String>) -> Result<String, ApiError> {
    api_version(p.get("version").map(String::as_str).unwrap_or(""))
}

fn object_param<'a>(org: &'a Org, p: &HashMap<String, String>) -> Result<&'a ObjectDef, ApiError> {
    org.schema
        .object(p.get("object").map(String::as_str).unwrap_or(""))
        .ok_or_else(ApiError::not_found)
}

/// `GET .../sobjects`.
pub async fn global(
    State(org): State<AppState>,
    _session: Session,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    Ok(Json(describe_global(&org, &v)))
}

/// The describeGlobal answer: every object's summary.
pub fn describe_global(org: &Org, version: &str) -> Value {
    let sobjects: Vec<Value> =
        org.schema.objects().iter().map(|o| Value::Object(object_summary(o, version))).collect();
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}

/// An object's basic information (`GET .../sobjects/{Object}`).
pub fn basic_info(obj: &ObjectDef, version: &str) -> Value {
    json!({"objectDescribe": object_summary(obj, version), "recentItems": []})
}

/// `GET .../sobjects/{Object}`.
pub async fn basic(
    State(org): State<AppState>,
    _session: Session,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    Ok(Json(basic_info(obj, &v)))
}

/// `GET .../sobjects/{Object}/describe`.
pub async fn describe(
    State(org): State<AppState>,
    _session: Session,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let v = version(&p)?;
    let obj = object_param(&org, &p)?;
    Ok(Json(describe_object(&org, obj, &v)))
}
