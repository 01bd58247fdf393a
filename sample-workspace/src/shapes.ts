interface Point {
  readonly x: number;
  readonly y: number;
}

type Shape =
  | { kind: 'circle'; center: Point; radius: number }
  | { kind: 'rectangle'; topLeft: Point; width: number; height: number };

function area(shape: Shape): number {
  switch (shape.kind) {
    case 'circle':
      return Math.PI * shape.radius * shape.radius;
    case 'rectangle':
      return shape.width * shape.height;
  }
}

const shapes: Shape[] = [
  { kind: 'circle', center: { x: 0, y: 0 }, radius: 2 },
  { kind: 'rectangle', topLeft: { x: 1, y: 1 }, width: 3, height: 4 },
];
console.log(shapes.map(area).reduce((a, b) => a + b, 0));
