//! Loading an export tree into DuckDB: each Parquet file is read by the `parquet` crate into
//! Arrow batches, the partition columns are added, and DuckDB's Arrow appender takes them.

use std::sync::Arc;

use anyhow::Result;
use duckdb::Connection;
use duckdb::arrow::array::{ArrayRef, RecordBatch, StringArray};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::scan::Part;
use crate::case::BadInput;
use crate::export::Table;

/// Appends one data file's rows to `table`; the file's columns must be the schema's.
pub fn append(conn: &Connection, table: &Table, part: Part) -> Result<u64> {
    let shown = || crate::one_line(&part.path.display().to_string());
    let bad = |what: String| anyhow::Error::new(BadInput(format!("{}: {what}", shown())));
    let builder = ParquetRecordBatchReaderBuilder::try_new(part.file)
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    check_columns(table, builder.schema()).map_err(bad)?;
    let reader = builder
        .build()
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    let mut appender = conn.appender(table.name)?;
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
        rows += batch.num_rows() as u64;
        let batch = with_partition(batch, &part.cluster_id, &part.bundle_id)?;
        appender
            .append_record_batch(batch)
            .map_err(|e| bad(format!("loading into {}: {e}", table.name)))?;
    }
    appender.flush()?;
    Ok(rows)
}

/// The file's columns must be the table's, by name and in order (types are checked by the
/// appender).
fn check_columns(table: &Table, schema: &Schema) -> Result<(), String> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let expected: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    if names != expected {
        return Err(format!(
            "columns do not match the export schema of table {} (file has {}, schema says {})",
            table.name,
            names.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// `batch` with `cluster_id` and `bundle_id` columns added at the end, as Spark adds
/// partition columns.
fn with_partition(batch: RecordBatch, cluster_id: &str, bundle_id: &str) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (key, value) in [("cluster_id", cluster_id), ("bundle_id", bundle_id)] {
        fields.push(Arc::new(Field::new(key, DataType::Utf8, false)));
        columns.push(Arc::new(StringArray::from(vec![value; rows])));
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}
