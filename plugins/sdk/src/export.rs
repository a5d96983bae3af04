//! The glue between a [`Plugin`] and the generated bindings: converts the contract's records
//! and hands the plugin the host-backed cloud. [`crate::export_plugin!`] instantiates it.

use crate::bindings::dwlink::plugin::types as wit;
use crate::bindings::exports::dwlink::plugin::datasource::Guest;
use crate::{
    CloudError, ConnectionRequest, Endpoint, HostCloud, InstanceRef, Location, Plugin, PluginError,
    PluginInfo, WhitelistGroup,
};
use core::marker::PhantomData;

/// Exports the plugin `P` through the contract; see [`crate::export_plugin!`].
pub struct Export<P>(PhantomData<P>);

impl<P: Plugin> Guest for Export<P> {
    fn describe() -> wit::PluginInfo {
        let i: PluginInfo = P::describe();
        wit::PluginInfo {
            name: i.name,
            version: i.version,
            datasource_type: i.datasource_type,
            product: i.product,
            api_version: i.api_version,
            actions: i.actions,
            summary: i.summary,
        }
    }

    fn discover(instance: wit::InstanceRef) -> Result<wit::Location, wit::PluginError> {
        P::discover(&HostCloud, &instance_from(instance))
            .map(location_into)
            .map_err(error_into)
    }

    fn whitelist_list(
        instance: wit::InstanceRef,
    ) -> Result<Vec<wit::WhitelistGroup>, wit::PluginError> {
        P::whitelist_list(&HostCloud, &instance_from(instance))
            .map(|groups| {
                groups
                    .into_iter()
                    .map(|g: WhitelistGroup| wit::WhitelistGroup {
                        name: g.name,
                        entries: g.entries,
                        attribute: g.attribute,
                    })
                    .collect()
            })
            .map_err(error_into)
    }

    fn whitelist_add(
        instance: wit::InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> Result<(), wit::PluginError> {
        P::whitelist_add(&HostCloud, &instance_from(instance), &group, &cidrs).map_err(error_into)
    }

    fn whitelist_remove(
        instance: wit::InstanceRef,
        group: String,
        cidrs: Vec<String>,
    ) -> Result<(), wit::PluginError> {
        P::whitelist_remove(&HostCloud, &instance_from(instance), &group, &cidrs)
            .map_err(error_into)
    }

    fn connection_properties(request: wit::ConnectionRequest) -> Result<String, wit::PluginError> {
        let request = ConnectionRequest {
            instance: instance_from(request.instance),
            location: location_from(request.location),
            owner_uid: request.owner_uid,
            role_name: request.role_name,
            database: request.database,
            username: request.username,
            env_type: request.env_type,
        };
        crate::connection_properties_json::<P>(&HostCloud, &request).map_err(error_into)
    }
}

fn instance_from(i: wit::InstanceRef) -> InstanceRef {
    InstanceRef {
        id: i.id,
        region: i.region,
    }
}

fn location_from(l: wit::Location) -> Location {
    Location {
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        vswitch_cidr: l.vswitch_cidr,
        endpoints: l
            .endpoints
            .into_iter()
            .map(|e| Endpoint {
                host: e.host,
                port: e.port,
                role: e.role,
            })
            .collect(),
        status: l.status,
        running: l.running,
    }
}

fn location_into(l: Location) -> wit::Location {
    wit::Location {
        region: l.region,
        zone: l.zone,
        vpc_id: l.vpc_id,
        vswitch_id: l.vswitch_id,
        vswitch_cidr: l.vswitch_cidr,
        endpoints: l
            .endpoints
            .into_iter()
            .map(|e| wit::Endpoint {
                host: e.host,
                port: e.port,
                role: e.role,
            })
            .collect(),
        status: l.status,
        running: l.running,
    }
}

fn error_into(e: PluginError) -> wit::PluginError {
    match e {
        PluginError::NotFound(m) => wit::PluginError::NotFound(m),
        PluginError::InvalidState(m) => wit::PluginError::InvalidState(m),
        PluginError::InvalidInput(m) => wit::PluginError::InvalidInput(m),
        PluginError::LimitExceeded(m) => wit::PluginError::LimitExceeded(m),
        PluginError::Cloud(CloudError {
            code,
            message,
            request_id,
            http_status,
        }) => wit::PluginError::Cloud(wit::CloudError {
            code,
            message,
            request_id,
            http_status,
        }),
        PluginError::Other(m) => wit::PluginError::Other(m),
    }
}
