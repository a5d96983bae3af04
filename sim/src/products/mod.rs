//! Product modules. Each has a `PRODUCT` and a `register` function; adding a product is one
//! module file plus one line below.

pub mod cbn;
pub mod dataworks;
pub mod dds;
pub mod polardb;
pub mod rds;
pub mod sts;
pub mod vpc;
pub mod vpcpeer;
pub mod whitelist;

use crate::registry::Registry;

pub fn register_all(r: &mut Registry) {
    cbn::register(r);
    sts::register(r);
    vpc::register(r);
    vpcpeer::register(r);
    rds::register(r);
    polardb::register(r);
    dds::register(r);
    dataworks::register(r);
}
