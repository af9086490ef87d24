//! The standard objects a field-service org carries: User, Account, Contact, Asset,
//! Product2, Case, WorkOrder, WorkOrderLineItem and ServiceAppointment.

use serde_json::Value;
use soql::schema::FieldType as T;

use super::{FieldDef, ObjectDef, Sharing, ValidationRule};

impl FieldDef {
    fn required(mut self) -> Self {
        self.nillable = false;
        self.required = true;
        self
    }
    fn len(mut self, n: u32) -> Self {
        self.length = n;
        self
    }
    fn label(mut self, l: &str) -> Self {
        self.label = l.to_string();
        self
    }
    fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }
    fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }
    fn ext_id(mut self) -> Self {
        self.external_id = true;
        self.unique = true;
        self
    }
    fn default(mut self, v: Value) -> Self {
        self.default_value = Some(v);
        self.defaulted_on_create = true;
        self
    }
    fn cascade(mut self) -> Self {
        self.cascade_delete = true;
        self
    }
    fn name_field(mut self) -> Self {
        self.name_field = true;
        self
    }
    fn calculated(mut self) -> Self {
        self.calculated = true;
        self.createable = false;
        self.updateable = false;
        self
    }
    fn auto_number(self) -> Self {
        let mut f = self.read_only();
        f.nillable = false;
        f.defaulted_on_create = true;
        f.length = 30;
        f.name_field = true;
        f
    }
}

fn text(name: &str, len: u32) -> FieldDef {
    FieldDef::new(name, T::String).len(len)
}

fn typed(name: &str, t: T) -> FieldDef {
    FieldDef::new(name, t)
}

fn picklist(name: &str, values: &[&str], restricted: bool) -> FieldDef {
    let mut f = FieldDef::new(name, T::Picklist);
    f.picklist = values.iter().map(|v| v.to_string()).collect();
    f.restricted_picklist = restricted;
    f
}

/// A lookup: `relationship` is the parent path name, `children` the child relationship name.
fn reference(name: &str, to: &str, relationship: &str, children: Option<&str>) -> FieldDef {
    let mut f = FieldDef::new(name, T::Reference);
    f.reference_to = vec![to.to_string()];
    f.relationship_name = Some(relationship.to_string());
    f.child_relationship = children.map(str::to_string);
    f
}

/// A polymorphic lookup: like [`reference`], with every object it may point at.
fn polymorphic_reference(
    name: &str,
    to: &[&str],
    relationship: &str,
    children: Option<&str>,
) -> FieldDef {
    let mut f = reference(name, to[0], relationship, children);
    f.reference_to = to.iter().map(|t| t.to_string()).collect();
    f
}

/// Id, owner (when the object has one) and the audit fields every record carries.
pub(super) fn system_fields(has_owner: bool) -> Vec<FieldDef> {
    let mut id = typed("Id", T::Id).read_only().label("Record ID");
    id.nillable = false;
    id.defaulted_on_create = true;
    let mut fields = vec![id];
    if has_owner {
        let mut owner = reference("OwnerId", "User", "Owner", None).label("Owner ID");
        owner.nillable = false;
        owner.defaulted_on_create = true;
        fields.push(owner);
    }
    let mut deleted = typed("IsDeleted", T::Boolean).read_only().label("Deleted");
    deleted.defaulted_on_create = true;
    fields.push(deleted);
    for (name, t, rel) in [
        ("CreatedDate", T::DateTime, None),
        ("CreatedById", T::Reference, Some("CreatedBy")),
        ("LastModifiedDate", T::DateTime, None),
        ("LastModifiedById", T::Reference, Some("LastModifiedBy")),
        ("SystemModstamp", T::DateTime, None),
    ] {
        let mut f = match rel {
            Some(r) => reference(name, "User", r, None),
            None => typed(name, t),
        }
        .read_only();
        f.nillable = false;
        f.defaulted_on_create = true;
        fields.push(f);
    }
    fields
}

fn object(name: &str, prefix: &str, plural: &str, sharing: Sharing, owner: bool) -> ObjectDef {
    ObjectDef {
        name: name.to_string(),
        label: super::default_label(name),
        label_plural: plural.to_string(),
        key_prefix: prefix.to_string(),
        custom: false,
        createable: true,
        sharing,
        fields: system_fields(owner),
        validation_rules: Vec::new(),
        user_access_fields: if owner { vec!["OwnerId".to_string()] } else { Vec::new() },
    }
}

fn with(mut o: ObjectDef, fields: Vec<FieldDef>) -> ObjectDef {
    o.fields.extend(fields);
    o
}

const WORK_STATUS: &[&str] = &["New", "In Progress", "On Hold", "Completed", "Closed", "Canceled"];

/// The standard objects with their default sharing.
pub(super) fn standard_objects() -> Vec<ObjectDef> {
    let mut user = with(
        object("User", "005", "Users", Sharing::Read, false),
        vec![
            text("Username", 80).required().create_only(),
            text("FirstName", 40),
            text("LastName", 80).required(),
            text("Name", 121).calculated().name_field().label("Full Name"),
            typed("Email", T::Email).len(128).required(),
            text("Alias", 8),
            text("Title", 80),
            typed("Phone", T::Phone).len(40),
            typed("IsActive", T::Boolean).default(Value::Bool(true)).label("Active"),
            picklist(
                "TimeZoneSidKey",
                &["America/Los_Angeles", "America/New_York", "Europe/London", "GMT"],
                true,
            )
            .default(Value::from("GMT")),
            picklist("UserType", &["Standard", "AutomatedProcess"], true)
                .read_only()
                .default(Value::from("Standard")),
        ],
    );
    user.createable = false;
    user.label = "User".into();
    if let Some(f) = user.fields.iter_mut().find(|f| f.name == "Username") {
        f.unique = true;
    }

    let account = with(
        object("Account", "001", "Accounts", Sharing::ReadWrite, true),
        vec![
            text("Name", 255).required().name_field().label("Account Name"),
            picklist(
                "Type",
                &["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"],
                false,
            ),
            picklist(
                "Industry",
                &[
                    "Agriculture",
                    "Construction",
                    "Energy",
                    "Healthcare",
                    "Manufacturing",
                    "Utilities",
                ],
                false,
            ),
            typed("Phone", T::Phone).len(40),
            typed("Website", T::Url),
            typed("BillingStreet", T::TextArea).len(255),
            text("BillingCity", 40),
            text("BillingPostalCode", 20),
            text("BillingCountry", 80),
            typed("Description", T::TextArea),
            typed("NumberOfEmployees", T::Int).label("Employees"),
            typed("AnnualRevenue", T::Currency),
            reference("ParentId", "Account", "Parent", Some("ChildAccounts")),
            text("External_Id__c", 80).ext_id().label("External Id"),
        ],
    );

    let mut contact = with(
        object("Contact", "003", "Contacts", Sharing::ControlledByParent("AccountId".into()), true),
        vec![
            picklist("Salutation", &["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."], false),
            text("FirstName", 40),
            text("LastName", 80).required(),
            text("Name", 121).calculated().name_field().label("Full Name"),
            reference("AccountId", "Account", "Account", Some("Contacts")),
            typed("Email", T::Email),
            typed("Phone", T::Phone).len(40),
            typed("MobilePhone", T::Phone).len(40),
            text("Title", 128),
            text("MailingCity", 40),
            typed("Birthdate", T::Date),
        ],
    );
    contact.label = "Contact".into();

    let product = with(
        object("Product2", "01t", "Products", Sharing::Read, false),
        vec![
            text("Name", 255).required().name_field().label("Product Name"),
            text("ProductCode", 255),
            typed("Description", T::TextArea).len(4000),
            picklist("Family", &["Hardware", "Parts", "Service", "Consumables"], false),
            typed("IsActive", T::Boolean).label("Active"),
            picklist("QuantityUnitOfMeasure", &["Each", "Hours", "Meters", "Liters"], false),
        ],
    );

    let asset = with(
        object("Asset", "02i", "Assets", Sharing::ReadWrite, true),
        vec![
            text("Name", 255).required().name_field().label("Asset Name"),
            reference("AccountId", "Account", "Account", Some("Assets")),
            reference("ContactId", "Contact", "Contact", Some("Assets")),
            reference("Product2Id", "Product2", "Product2", Some("Assets")),
            text("SerialNumber", 80),
            picklist(
                "Status",
                &["Purchased", "Shipped", "Installed", "Registered", "Obsolete"],
                false,
            ),
            typed("Quantity", T::Double),
            typed("InstallDate", T::Date),
            typed("PurchaseDate", T::Date),
            typed("Description", T::TextArea),
        ],
    );

    let case = with(
        object("Case", "500", "Cases", Sharing::Read, true),
        vec![
            text("CaseNumber", 30).auto_number().label("Case Number"),
            text("Subject", 255),
            typed("Description", T::TextArea),
            picklist("Status", &["New", "Working", "Escalated", "Closed"], false)
                .default(Value::from("New")),
            picklist("Priority", &["High", "Medium", "Low"], false).default(Value::from("Medium")),
            picklist("Origin", &["Phone", "Email", "Web"], false),
            reference("AccountId", "Account", "Account", Some("Cases")),
            reference("ContactId", "Contact", "Contact", Some("Cases")),
            reference("AssetId", "Asset", "Asset", Some("Cases")),
        ],
    );

    let mut work_order = with(
        object("WorkOrder", "0WO", "Work Orders", Sharing::Private, true),
        vec![
            text("WorkOrderNumber", 30).auto_number().label("Work Order Number"),
            text("Subject", 255),
            typed("Description", T::TextArea),
            picklist("Status", WORK_STATUS, true).default(Value::from("New")),
            picklist("Priority", &["Low", "Medium", "High", "Critical"], true)
                .default(Value::from("Low")),
            reference("AccountId", "Account", "Account", Some("WorkOrders")),
            reference("AssetId", "Asset", "Asset", Some("WorkOrders")),
            reference("ContactId", "Contact", "Contact", Some("WorkOrders")),
            reference("CaseId", "Case", "Case", Some("WorkOrders")),
            typed("StartDate", T::DateTime),
            typed("EndDate", T::DateTime),
            typed("Duration", T::Double),
            text("Street", 255),
            text("City", 40),
            text("PostalCode", 20),
            text("Country", 80),
            text("Resolution_Note__c", 255).label("Resolution Note"),
            text("External_Id__c", 80).ext_id().label("External Id"),
        ],
    );
    work_order.label = "Work Order".into();
    work_order.validation_rules.push(ValidationRule {
        name: "Closed_Requires_Resolution_Note".into(),
        field: "Status".into(),
        values: vec!["Closed".into()],
        required_field: "Resolution_Note__c".into(),
        message: "WorkOrder cannot be Closed without Resolution_Note__c".into(),
    });

    let mut line_item = with(
        object(
            "WorkOrderLineItem",
            "1WL",
            "Work Order Line Items",
            Sharing::ControlledByParent("WorkOrderId".into()),
            false,
        ),
        vec![
            text("LineItemNumber", 30).auto_number().label("Line Item Number"),
            reference("WorkOrderId", "WorkOrder", "WorkOrder", Some("WorkOrderLineItems"))
                .required()
                .create_only()
                .cascade(),
            text("Subject", 255),
            picklist("Status", WORK_STATUS, true).default(Value::from("New")),
            typed("Description", T::TextArea),
            reference("Product2Id", "Product2", "Product2", Some("WorkOrderLineItems")),
            reference("AssetId", "Asset", "Asset", Some("WorkOrderLineItems")),
            typed("Quantity", T::Double),
        ],
    );
    line_item.label = "Work Order Line Item".into();

    let mut appointment = with(
        object(
            "ServiceAppointment",
            "08p",
            "Service Appointments",
            Sharing::ControlledByParent("ParentRecordId".into()),
            true,
        ),
        vec![
            text("AppointmentNumber", 30).auto_number().label("Appointment Number"),
            // Salesforce also allows Lead, Opportunity and others, which this org does not
            // model.
            polymorphic_reference(
                "ParentRecordId",
                &["Account", "Asset", "WorkOrder", "WorkOrderLineItem"],
                "ParentRecord",
                Some("ServiceAppointments"),
            )
            .required()
            .cascade()
            .label("Parent Record ID"),
            text("Subject", 255),
            typed("Description", T::TextArea),
            picklist(
                "Status",
                &[
                    "None",
                    "Scheduled",
                    "Dispatched",
                    "In Progress",
                    "Cannot Complete",
                    "Completed",
                    "Canceled",
                ],
                true,
            )
            .default(Value::from("None")),
            typed("EarliestStartTime", T::DateTime),
            typed("DueDate", T::DateTime),
            typed("SchedStartTime", T::DateTime).label("Scheduled Start"),
            typed("SchedEndTime", T::DateTime).label("Scheduled End"),
            typed("ActualStartTime", T::DateTime),
            typed("ActualEndTime", T::DateTime),
            reference("Technician__c", "User", "Technician__r", Some("Technician_Appointments__r"))
                .label("Technician"),
        ],
    );
    appointment.label = "Service Appointment".into();
    appointment.user_access_fields.push("Technician__c".into());

    let mut organization = with(
        object("Organization", "00D", "Organizations", Sharing::Read, false),
        vec![
            text("Name", 80).required().name_field(),
            text("Division", 80),
            picklist("OrganizationType", &["Developer Edition", "Enterprise Edition"], true)
                .read_only(),
            text("InstanceName", 5).read_only(),
            typed("IsSandbox", T::Boolean).read_only(),
            typed("TrialExpirationDate", T::DateTime).read_only(),
            text("NamespacePrefix", 15).read_only(),
            text("LanguageLocaleKey", 40),
            text("DefaultLocaleSidKey", 40),
            text("TimeZoneSidKey", 40),
            text("Country", 80),
        ],
    );
    organization.createable = false;
    organization.label = "Organization".into();

    vec![
        organization,
        user,
        account,
        contact,
        product,
        asset,
        case,
        work_order,
        line_item,
        appointment,
    ]
}
