//! Reads the graph inputs and outputs of an ONNX file straight from its protobuf bytes, so a
//! bundle can be checked against its manifest before ONNX Runtime sees the file.
//!
//! Only the few fields needed are decoded (`ModelProto.graph` -> `GraphProto.input/output/
//! initializer` -> `ValueInfoProto.name/type` -> tensor element type and shape); everything
//! else, weights included, is skipped without copying.

use super::manifest::TensorSpec;

/// Inputs (initialisers excluded) and outputs of an ONNX graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphIo {
    /// Graph inputs that are fed at run time.
    pub inputs: Vec<TensorSpec>,
    /// Graph outputs.
    pub outputs: Vec<TensorSpec>,
}

/// Parses the graph inputs and outputs; `Err` describes why the bytes are not an ONNX model.
pub fn read_graph_io(model: &[u8]) -> Result<GraphIo, String> {
    let graph = fields(model)?
        .into_iter()
        .find_map(|f| match f {
            (7, Value::Bytes(b)) => Some(b),
            _ => None,
        })
        .ok_or("no graph in ONNX model")?;
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    let mut initializers = Vec::new();
    for field in fields(graph)? {
        match field {
            (5, Value::Bytes(t)) => initializers.push(string_field(t, 8)?),
            (11, Value::Bytes(v)) => inputs.push(value_info(v)?),
            (12, Value::Bytes(v)) => outputs.push(value_info(v)?),
            _ => {}
        }
    }
    inputs.retain(|i| !initializers.contains(&i.name));
    Ok(GraphIo { inputs, outputs })
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

/// Splits one protobuf message into (field number, value) pairs.
fn fields(buf: &[u8]) -> Result<Vec<(u64, Value<'_>)>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(buf, &mut pos)?),
            1 | 5 => {
                pos += if key & 7 == 1 { 8 } else { 4 };
                Value::Fixed
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| "length overflow")?;
                let end = pos.checked_add(len).filter(|&e| e <= buf.len()).ok_or("truncated field")?;
                let bytes = &buf[pos..end];
                pos = end;
                Value::Bytes(bytes)
            }
            w => return Err(format!("unsupported protobuf wire type {w}")),
        };
        if pos > buf.len() {
            return Err("truncated field".into());
        }
        out.push((key >> 3, value));
    }
    Ok(out)
}

fn string_field(buf: &[u8], number: u64) -> Result<String, String> {
    for field in fields(buf)? {
        if let (n, Value::Bytes(b)) = field
            && n == number
        {
            return String::from_utf8(b.to_vec()).map_err(|_| "name is not UTF-8".to_string());
        }
    }
    Ok(String::new())
}

fn value_info(buf: &[u8]) -> Result<TensorSpec, String> {
    let mut spec = TensorSpec { name: String::new(), dtype: "unknown".into(), shape: Vec::new() };
    for field in fields(buf)? {
        match field {
            (1, Value::Bytes(b)) => spec.name = String::from_utf8(b.to_vec()).map_err(|_| "name is not UTF-8")?,
            (2, Value::Bytes(type_proto)) => {
                for tf in fields(type_proto)? {
                    if let (1, Value::Bytes(tensor_type)) = tf {
                        for f in fields(tensor_type)? {
                            match f {
                                (1, Value::Varint(t)) => spec.dtype = dtype_name(t).into(),
                                (2, Value::Bytes(shape)) => spec.shape = dims(shape)?,
                                _ => {}
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(spec)
}

fn dims(shape: &[u8]) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for field in fields(shape)? {
        if let (1, Value::Bytes(dim)) = field {
            let mut d = -1;
            for f in fields(dim)? {
                if let (1, Value::Varint(v)) = f {
                    d = v as i64;
                }
            }
            out.push(d);
        }
    }
    Ok(out)
}

fn dtype_name(t: u64) -> &'static str {
    match t {
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(field: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![((field << 3) | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn reads_a_hand_built_graph() {
        // dim 1 = value 1, dim 2 = param "n"
        let dim1 = msg(1, &[0x08, 0x01]);
        let dim2 = msg(1, &msg(2, b"n"));
        let shape = [dim1, dim2].concat();
        let tensor_type = [vec![0x08, 0x01], msg(2, &shape)].concat();
        let type_proto = msg(1, &tensor_type);
        let vi = [msg(1, b"x"), msg(2, &type_proto)].concat();
        let init = msg(8, b"w");
        let vi_w = [msg(1, b"w"), msg(2, &type_proto)].concat();
        let graph = [msg(5, &init), msg(11, &vi), msg(11, &vi_w), msg(12, &vi)].concat();
        let model = [vec![0x08, 0x07], msg(7, &graph)].concat();
        let io = read_graph_io(&model).expect("parses");
        assert_eq!(io.inputs, vec![TensorSpec { name: "x".into(), dtype: "float32".into(), shape: vec![1, -1] }]);
        assert_eq!(io.outputs.len(), 1);
    }

    #[test]
    fn rejects_garbage() {
        assert!(read_graph_io(&[0xff, 0xff, 0xff]).is_err());
        assert!(read_graph_io(b"").is_err());
    }
}
